import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Length of a 32-byte token in base64url (no padding). */
export const TOKEN_LENGTH = 43;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** 256 random bits, base64url: session ids, CSRF tokens, remember-me series and tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `value` has the shape of a token this package issued (checked before any cache call). */
export function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length === TOKEN_LENGTH && TOKEN_PATTERN.test(value);
}

/** SHA-256, base64url. Only these digests of ids and tokens ever reach the cache. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * Compare two secrets in constant time. Both sides are hashed first so that
 * inputs of different lengths take the same time as equal-length ones.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
