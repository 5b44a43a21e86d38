import { lixError } from './errors';

/**
 * RedisEngine scan cursors, opaque to clients: base64url of a small JSON
 * array. A prefix scan resumes a Redis SCAN on one master at its SCAN cursor,
 * past the last key returned from that SCAN batch (batches are sorted); a
 * tag scan resumes past the last key returned (tag members are sorted).
 */
export type RedisCursor =
  | { kind: 'prefix'; node: string; redisCursor: string; after: string }
  | { kind: 'tag'; after: string };

export function encodeRedisCursor(cursor: RedisCursor): string {
  const parts = cursor.kind === 'prefix' ? ['p', cursor.node, cursor.redisCursor, cursor.after] : ['t', cursor.after];
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeRedisCursor<K extends RedisCursor['kind']>(text: string, kind: K): Extract<RedisCursor, { kind: K }> {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (Array.isArray(parts) && parts.every((part) => typeof part === 'string')) {
    if (kind === 'prefix' && parts.length === 4 && parts[0] === 'p' && /^\d+$/.test(parts[2] as string)) {
      return { kind, node: parts[1], redisCursor: parts[2], after: parts[3] } as Extract<RedisCursor, { kind: K }>;
    }
    if (kind === 'tag' && parts.length === 2 && parts[0] === 't') return { kind, after: parts[1] } as Extract<RedisCursor, { kind: K }>;
  }
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  throw lixError(
    'invalid_scan',
    `"cursor" ${JSON.stringify(shown)} is not a cursor this cache returned for a ${kind === 'tag' ? 'tag' : 'prefix'} scan. Pass back the "cursor" of the previous page unchanged (with the same prefix and tag), or omit it to start from the beginning.`,
  );
}
