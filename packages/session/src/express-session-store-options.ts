import { LixCache } from 'lix-cache-sdk';

/**
 * A custom encoding of sessions, as connect-redis's `serializer` option: `stringify` turns a
 * session into a string (stored as is), `parse` turns it back (it may return a promise).
 */
export interface Serializer {
  /** Decode a stored string into a session; may be async. */
  parse(text: string): unknown;
  /** Encode a session as a string. */
  stringify(session: any): string; // eslint-disable-line @typescript-eslint/no-explicit-any -- sessions are app-typed
}

/** Options of `new LixSessionStore(options)`: connect-redis 9's options, with `cache` for its `client`. */
export interface LixSessionStoreOptions {
  /**
   * A `LixCache` client or a URL (`http://…` Lix server, `memory://…`, `redis://…`).
   * Default: `new LixCache()` (`LIX_CACHE_URL`, else `http://localhost:4000`).
   */
  cache?: LixCache | string;
  /**
   * connect-redis's name for `cache`; the same values (a `LixCache` or a URL). A node-redis or
   * ioredis client is refused: pass its URL instead (`'redis://host:6379'`).
   */
  client?: LixCache | string;
  /** Key prefix (default `'sess:'`, `''` for none). Keys are `prefix + sha256(sid)`. */
  prefix?: string;
  /** Keys per page when `all()`, `ids()` and `length()` walk the store's sessions (default 100, 1 to 10000). */
  scanCount?: number;
  /**
   * How sessions are encoded (default `JSON`: sessions are stored as JSON objects). A custom
   * serializer's `stringify` output is stored as a string and handed to its `parse` on reads.
   */
  serializer?: Serializer;
  /**
   * Seconds a session lives when its cookie has no expiry (default 86400, one day). Or a
   * function `(session) => seconds`, which then decides every session's TTL, cookie or not
   * (0 or less deletes the session), as in connect-redis.
   */
  ttl?: number | ((session: any) => number); // eslint-disable-line @typescript-eslint/no-explicit-any -- sessions are app-typed
  /**
   * Store sessions without a TTL (default false). They then never expire in the cache: only
   * `destroy`, `clear` or the cache's own eviction remove them. `touch` does nothing.
   */
  disableTTL?: boolean;
  /** Keep the TTL on `touch` instead of resetting it (default false). */
  disableTouch?: boolean;
  /**
   * Store SHA-256 hashes of session ids, never the ids (default true). `false` stores raw ids,
   * so that `ids()` and `all()` give the session ids back (connect-redis's behaviour, e.g. for
   * admin tooling during a migration); anyone who can read the cache then learns every id, and
   * a warning is printed once. Sessions stored one way are not found the other way.
   */
  hashIds?: boolean;
}

/** The options with their defaults, checked. */
export interface ResolvedStoreOptions {
  cache: LixCache;
  prefix: string;
  scanCount: number;
  serializer: Serializer;
  ttl: number | ((session: any) => number); // eslint-disable-line @typescript-eslint/no-explicit-any
  disableTTL: boolean;
  disableTouch: boolean;
  hashIds: boolean;
}

const KNOWN = ['cache', 'client', 'prefix', 'scanCount', 'serializer', 'ttl', 'disableTTL', 'disableTouch', 'hashIds'];
/** The server's largest scan page (core's maxScanLimit default). */
const MAX_SCAN_COUNT = 10_000;

/** How a bad value reads in an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return String(value);
}

function fail(message: string): never {
  throw new TypeError(`LixSessionStore: ${message}`);
}

function boolean(options: LixSessionStoreOptions, name: 'disableTTL' | 'disableTouch' | 'hashIds', fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(`"${name}" must be true or false; got ${describe(value)}.`);
  return value;
}

function cacheOf(options: LixSessionStoreOptions): LixCache {
  if (options.cache !== undefined && options.client !== undefined) fail('pass "cache" or "client" (its connect-redis name), not both.');
  const name = options.client !== undefined ? 'client' : 'cache';
  const cache = options[name];
  if (cache === undefined) return new LixCache();
  if (cache instanceof LixCache) return cache;
  if (typeof cache === 'string') return new LixCache({ url: cache });
  fail(
    `"${name}" must be a LixCache client or a URL such as "redis://localhost:6379" or "http://localhost:4000"; got ${describe(cache)}. ` +
      'A node-redis or ioredis client cannot be used: pass the URL it connects to instead.',
  );
}

/** Check `options` (connect-redis 9's, plus `cache` and `hashIds`) and fill in the defaults. */
export function resolveStoreOptions(options: LixSessionStoreOptions | undefined): ResolvedStoreOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(`options must be an object such as { prefix: "sess:" }; got ${describe(options)}.`);
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.includes(name)) fail(`unknown option "${name}". The options are ${KNOWN.join(', ')}.`);
  }

  const { prefix = 'sess:', scanCount = 100, serializer = JSON, ttl = 86_400 } = options;
  if (typeof prefix !== 'string') fail(`"prefix" must be a string such as "sess:" ("" for none); got ${describe(prefix)}.`);
  if (typeof scanCount !== 'number' || !Number.isInteger(scanCount) || scanCount < 1 || scanCount > MAX_SCAN_COUNT) {
    fail(`"scanCount" must be a whole number from 1 to ${MAX_SCAN_COUNT} (keys per page); got ${describe(scanCount)}.`);
  }
  if (
    typeof serializer !== 'object' ||
    serializer === null ||
    typeof (serializer as Partial<Serializer>).parse !== 'function' ||
    typeof (serializer as Partial<Serializer>).stringify !== 'function'
  ) {
    fail(`"serializer" must be an object with parse(text) and stringify(session) functions, such as JSON; got ${describe(serializer)}.`);
  }
  if (typeof ttl !== 'function' && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0)) {
    fail(
      `"ttl" must be a positive number of seconds or a function (session) => seconds; got ${describe(ttl)}. ` +
        'For sessions that never expire in the cache, use disableTTL: true.',
    );
  }
  return {
    cache: cacheOf(options),
    prefix,
    scanCount,
    serializer,
    ttl,
    disableTTL: boolean(options, 'disableTTL', false),
    disableTouch: boolean(options, 'disableTouch', false),
    hashIds: boolean(options, 'hashIds', true),
  };
}
