import { lixError } from '../commands/errors';

/**
 * Scan cursors are the last key a page returned, as base64url of its UTF-8:
 * opaque to clients, safe in a query string, and a resumed scan continues
 * right after that key even if it was deleted meanwhile. Written with
 * TextEncoder/btoa rather than Buffer so it also runs outside Node.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCursor(key: string): string {
  let binary = '';
  for (const byte of encoder.encode(key)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The key a cursor names; a cursor this code did not make is an `invalid_scan` error. */
export function decodeCursor(cursor: string): string {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const key = decoder.decode(bytes);
    if (key.length > 0 && encodeCursor(key) === cursor) return key;
  } catch {
    // fall through to the error below
  }
  throw lixError('invalid_scan', `"cursor" ${JSON.stringify(cursor.length > 60 ? `${cursor.slice(0, 57)}...` : cursor)} is not a cursor this cache returned. Pass back the "cursor" of the previous page unchanged, or omit it to start from the beginning.`);
}
