import { sha256 as sha256Bytes } from '@noble/hashes/sha2';

/*
 * No node: imports here: the Hono and Next.js entries run where Web Crypto exists but
 * node:crypto may not. SHA-256 must be synchronous (every store key derives from it), which
 * Web Crypto's digest is not: node:crypto's where the runtime has it (Node, Deno, Bun; native,
 * several times faster, and it runs on every request), else @noble/hashes (audited, pure JS).
 */
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.('node:crypto') as
  | typeof import('node:crypto')
  | undefined;

/** Length of a 32-byte token in base64url (no padding). */
export const TOKEN_LENGTH = 43;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const encoder = new TextEncoder();

/** base64url without padding; `btoa` is global in every runtime (Buffer is Node's only). */
function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** 256 random bits, base64url: session ids, CSRF tokens, remember-me series and tokens. */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Whether `value` has the shape of a token this package issued (checked before any cache call). */
export function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length === TOKEN_LENGTH && TOKEN_PATTERN.test(value);
}

/** SHA-256, base64url. Only these digests of ids and tokens ever reach the cache. Picked once, at load. */
export const sha256: (text: string) => string = !nodeCrypto
  ? (text) => base64url(sha256Bytes(encoder.encode(text)))
  : nodeCrypto.hash
    ? (text) => nodeCrypto.hash('sha256', text, 'base64url')
    : (text) => nodeCrypto.createHash('sha256').update(text).digest('base64url');

/**
 * Compare two secrets in constant time. Both sides are hashed first, so inputs of any
 * length compare as 32 bytes, every byte looked at.
 */
export function safeEqual(a: string, b: string): boolean {
  const x = sha256Bytes(encoder.encode(a));
  const y = sha256Bytes(encoder.encode(b));
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i]! ^ y[i]!;
  return difference === 0;
}
