import { lixError } from '../commands/errors';

/**
 * RedisEngine scan cursors, opaque to clients: base64url of a small JSON
 * array, naming no host or port. A prefix scan resumes a Redis SCAN on one
 * master at its SCAN cursor, past the last key returned from that SCAN batch
 * (batches are sorted); the master is an index into the masters ordered by
 * their first slot, and `check` a hash of the slot layout and of that master's
 * run id, so a cursor is refused once its master restarted (its SCAN cursor
 * means nothing to a new process) or the slots moved. A tag scan resumes past
 * the last key returned (tag members are sorted). `count` is the SCAN COUNT of
 * the batch in progress: resuming must repeat that call exactly.
 */
export type RedisCursor =
  | { kind: 'prefix'; node: number; check: string; redisCursor: string; count: number; after: string }
  | { kind: 'tag'; after: string };

export function encodeRedisCursor(cursor: RedisCursor): string {
  const parts = cursor.kind === 'prefix' ? ['p', String(cursor.node), cursor.check, cursor.redisCursor, String(cursor.count), cursor.after] : ['t', cursor.after];
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
    const [tag, node, check, redisCursor, count, after] = parts as string[];
    if (kind === 'prefix' && parts.length === 6 && tag === 'p' && /^\d{1,5}$/.test(node!) && /^\d{1,20}$/.test(redisCursor!) && /^[1-9]\d{0,5}$/.test(count!)) {
      return { kind, node: Number(node), check, redisCursor, count: Number(count), after } as Extract<RedisCursor, { kind: K }>;
    }
    if (kind === 'tag' && parts.length === 2 && parts[0] === 't') return { kind, after: parts[1] } as Extract<RedisCursor, { kind: K }>;
  }
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  throw lixError(
    'invalid_scan',
    `"cursor" ${JSON.stringify(shown)} is not a cursor this cache returned for a ${kind === 'tag' ? 'tag' : 'prefix'} scan. Pass back the "cursor" of the previous page unchanged (with the same prefix and tag), or omit it to start from the beginning.`,
  );
}
