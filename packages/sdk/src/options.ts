/** Options of `get` / `getEntry`. */
export interface GetOptions {
  /** Reset the key's TTL to this many seconds as it is read (sliding expiration). 0 removes the TTL. */
  touch?: number;
  /** `getEntry` only: also read the key's tags (`entry.tags`). Such a read skips the near cache. */
  withTags?: boolean;
}

/** Options of `set`. */
export interface SetOptions {
  /** Seconds until the key expires; 0 or absent: never. */
  ttl?: number;
  /** Write only if the key is absent; `set` then resolves false when it was present. */
  nx?: boolean;
  /** Write only if the key is present; `set` then resolves false when it was absent. */
  xx?: boolean;
  /** Tags for `scan({ tag })` and `invalidate(tag)`; replace the key's earlier tags. */
  tags?: string[];
}

/** Options of `merge`. */
export interface MergeOptions {
  /** Also reset the TTL (seconds; 0 removes it). Absent: the TTL is kept. */
  ttl?: number;
}

/** Options of `incr` / `decr`. */
export interface IncrOptions {
  /** Seconds; applied only when this call creates the key. */
  ttl?: number;
}

/** Options of `scan` / `scanAll`. */
export interface ScanOptions {
  /** Only keys that start with this. */
  prefix?: string;
  /** Only keys that carry this tag. */
  tag?: string;
  /**
   * Page size. Without `limit` and `cursor`, `scan` returns every match at once
   * (fetched page by page); with either, it returns one page and its `cursor`.
   */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string | null;
  /** Return keys without values. */
  keysOnly?: boolean;
}

/** A key with its value and remaining TTL (seconds; null for none). */
export interface ScanItem<T = unknown> {
  key: string;
  value: T;
  ttl: number | null;
}

/** A page of `scan` results. */
export interface ScanPage<T = unknown> {
  items: ScanItem<T>[];
  /** How many items this page holds. */
  count: number;
  /** Pass as `cursor` for the next page; null when the scan is complete. */
  cursor: string | null;
}

/** A page of `scan({ keysOnly: true })` results. */
export interface ScanKeysPage {
  keys: string[];
  count: number;
  cursor: string | null;
}

/** A value with its remaining TTL in seconds (null: no expiry). */
export interface Entry<T> {
  value: T;
  ttl: number | null;
  /** The key's tags, when read with `withTags`. */
  tags?: string[];
}

/** Options of `remember`. */
export interface RememberOptions {
  /** Seconds to keep the computed value; 0 or absent: no expiry. */
  ttl?: number;
  /** Tags for the stored value. */
  tags?: string[];
}

/** Options of `rememberAll`. */
export interface RememberAllOptions<T> {
  /** The id of an item: it is stored at `prefix + getKey(item)`. */
  getKey: (item: T) => string;
  /** Seconds to keep each item; 0 or absent: no expiry. */
  ttl?: number;
  /**
   * Seconds to keep the list itself. With it, calls within `listTTL` read the items
   * from the cache and `fn` runs only when the list expired or an item is gone.
   * Without it, `fn` runs on every call and refreshes the cached items.
   */
  listTTL?: number;
}

/** What `rememberAll` returns: the items, and a lookup by id. */
export interface RememberAllResult<T> {
  items: T[];
  /** The item with this id (`getKey(item)`), if present. */
  getBy(id: string): T | undefined;
}
