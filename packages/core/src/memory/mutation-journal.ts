/**
 * Where a MemoryEngine reports each change to its keyspace, as a record that
 * replayed in order rebuilds the same keys, values, expiry times and tags.
 * Times are absolute (epoch ms, 0 = no expiry), so a replay later skips what
 * has expired meanwhile. Expirations themselves are not reported: the
 * absolute time already says so. The persistence layer implements this; an
 * engine without one pays a single `undefined` check per write.
 */
export interface MutationJournal {
  /** `key` now holds `value` (JSON text, or a number) with this expiry and these tags, replacing all it held. */
  put(key: string, value: string | number, expiresAt: number, tags: readonly string[] | undefined): void;
  /** `key` keeps its value and tags and now expires at `expiresAt` (0: never). */
  expire(key: string, expiresAt: number): void;
  /** `key` is gone (deleted, invalidated or evicted). */
  delete(key: string): void;
  /** Every key is gone. */
  clear(): void;
}
