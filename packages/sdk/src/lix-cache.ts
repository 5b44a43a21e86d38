import {
  describe,
  lixError,
  parseCommand,
  validateKey,
  validateTtl,
  type Command,
  type ErrorResult,
  type ExistsCommand,
  type GetCommand,
  type Json,
  type Result,
  type ScanResult,
  type Watch,
} from 'lix-cache-core';
import { Batcher } from './batcher';
import { Collection } from './collection';
import {
  clearedOf,
  deletedOf,
  entryOf,
  existsOf,
  expiredOf,
  invalidatedOf,
  malformed,
  mergedOf,
  numberOf,
  raw,
  scanOf,
  valueOf,
  writtenOf,
  type Decode,
} from './decode';
import { isLocalHost, resolveConfig, type LixCacheConfig, type ResolvedConfig } from './config';
import { fromCoreError, LixCacheError, LixValidationError } from './errors';
import type {
  Entry,
  GetOptions,
  IncrOptions,
  MergeOptions,
  RememberAllOptions,
  RememberAllResult,
  RememberOptions,
  ScanItem,
  ScanKeysPage,
  ScanOptions,
  ScanPage,
  SetOptions,
} from './options';
import { NearCache, type Held, type NearCacheStats } from './near-cache';
import { Inflight } from './remember';
import { checkSchema, type InferSchema, type Schema } from './schema';
import { openTransport } from './transports/open';
import type { Transport } from './transports/transport';
import type { BatchOperation, ClearResult } from './original-types';
import { healthOf, statsOf, type CacheHealth, type CacheStats } from './stats-health';
import { Value } from './value';

/** Page size `scan` uses when it fetches every match for you. */
const FULL_SCAN_PAGE = 1000;

type KeysOnly = { keysOnly: true };

/**
 * The Lix Cache client. One instance per app: it batches the commands issued in
 * one tick into one request and keeps its connections alive.
 *
 * ```ts
 * const cache = new LixCache();                       // LIX_CACHE_URL or http://localhost:4000
 * await cache.set('user:1', { name: 'Alice' }, { ttl: 60 });
 * const user = await cache.get<User>('user:1');       // User | null
 * ```
 */
export class LixCache {
  private readonly config: ResolvedConfig;
  private readonly transport: Transport;
  private readonly batcher: Batcher<unknown>;
  private readonly inflight = new Inflight();
  private readonly batching: boolean;
  private readonly near: NearCache | undefined;
  private readonly nearWatch: Watch | undefined;
  private closed = false;

  constructor(config?: LixCacheConfig) {
    this.config = resolveConfig(config);
    const { url, scheme, apiKey, logger } = this.config;
    if ((scheme === 'http' || scheme === 'https') && !apiKey && !isLocalHost(new URL(url).hostname)) {
      logger.warn(
        `lix-cache-sdk: talking to ${new URL(url).origin} without an API key. Anyone who can reach that server can read and change the cache: ` +
          `enable auth on the server (LIX_AUTH_ENABLED=true, LIX_API_KEYS) and pass "apiKey" (or set LIX_CACHE_API_KEY).`,
      );
    }
    this.transport = openTransport(this.config);
    this.batcher = new Batcher(this.transport, this.config.maxBatchSize, this.config.maxInFlight, this.config.batchWindow);
    this.batching = this.config.batching && !this.transport.immediate;
    const near = this.config.nearCache;
    if (near !== undefined) {
      this.near = new NearCache(near);
      this.nearWatch = this.transport.watch(this.near, near.prefixes);
    }
  }

  /** Whether this client has a near cache (the `nearCache` option): lix-cache-session then serves sessions from it. */
  get hasNearCache(): boolean {
    return this.near !== undefined;
  }

  /** The near cache's counters (hits, misses, invalidations, flushes, size, whether its channel is up); undefined without one. */
  nearCacheStats(): NearCacheStats | undefined {
    return this.near?.stats();
  }

  /** The URL this client talks to. */
  get url(): string {
    return this.config.url;
  }

  // ---- commands -----------------------------------------------------------

  /** Validate a command here, so bad input fails with a clear error and no round trip. */
  private parse(input: unknown): Command {
    if (this.closed) throw closedError();
    try {
      return parseCommand(input, this.transport.limits);
    } catch (error) {
      throw fromCoreError(error);
    }
  }

  /**
   * Run one command through the batcher; resolves with `decode(result)`. No async
   * layers: the batcher's promise is the caller's, so a command costs one promise.
   */
  private run<R>(command: Command, decode: Decode<R>): Promise<R> {
    return this.batching ? this.batcher.enqueue(command, decode) : this.batcher.sendNow(command, decode);
  }

  private send<R>(input: Record<string, unknown>, decode: Decode<R>): Promise<R> {
    try {
      const command = this.parse(input);
      this.near?.passing(command);
      return this.run(command, decode);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** parseCommand's checks of a get's two fields, without its copy of the input: get is the hottest call. */
  private getCommand(key: string, options: GetOptions | undefined): Command {
    if (this.closed) throw closedError();
    try {
      const touch = validateTtl(options?.touch, this.transport.limits, 'touch');
      const checked = validateKey(key, this.transport.limits);
      const command: GetCommand = touch === undefined ? { op: 'get', key: checked } : { op: 'get', key: checked, touch };
      if (options?.withTags !== undefined && options.withTags !== false) {
        if (options.withTags !== true) throw lixError('invalid_command', `The "withTags" option of getEntry must be true or false; got ${describe(options.withTags)}.`);
        command.withTags = true;
      }
      return command;
    } catch (error) {
      throw fromCoreError(error);
    }
  }

  private sendGet<R>(key: string, options: GetOptions | undefined, decode: Decode<R>): Promise<R> {
    try {
      const command = this.getCommand(key, options) as GetCommand;
      const near = this.near;
      if (near === undefined) return this.run(command, decode);
      if (command.touch === undefined && command.withTags === undefined) return this.nearRead(command, decode);
      near.passing(command);
      return this.run(command, decode);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A read the near cache may answer, or fill when it comes back (misses pay one promise more; hits none). */
  private nearRead<R>(command: GetCommand | ExistsCommand, decode: Decode<R>): Promise<R> {
    const near = this.near!;
    const held = near.lookup(command.key);
    if (held !== undefined) return Promise.resolve(decode(heldResult(command, held)));
    if (command.op === 'exists') return this.run(command, decode);
    const ticket = near.begin(command.key);
    if (ticket === undefined) return this.run(command, decode);
    return this.run(command, raw).then(
      (result) => {
        near.end(ticket, result);
        return decode(result);
      },
      (error: unknown) => {
        near.end(ticket, undefined);
        throw error;
      },
    );
  }

  /** The value at `key`, or null when it is missing or expired. `touch` resets its TTL as it reads. */
  get<T = unknown>(key: string, options?: GetOptions): Promise<T | null> {
    return this.sendGet(key, options, valueOf) as Promise<T | null>;
  }

  /** The value at `key` with its remaining TTL, or null when the key is missing. */
  getEntry<T = unknown>(key: string, options?: GetOptions): Promise<Entry<T> | null> {
    return this.sendGet(key, options, entryOf) as Promise<Entry<T> | null>;
  }

  /** Store `value` at `key`. Resolves true when written (false only when `nx`/`xx` kept it from being written). */
  set<T>(key: string, value: T, options?: SetOptions): Promise<boolean> {
    const input =
      options === undefined
        ? { op: 'set', key, value }
        : { op: 'set', key, value, ttl: options.ttl, nx: options.nx, xx: options.xx, tags: options.tags };
    return this.send(input, writtenOf);
  }

  /**
   * Shallow-merge `patch` into the object stored at `key`, atomically. Resolves false
   * (and writes nothing) when the key is absent, so a deleted key is never revived.
   * Throws LixTypeError (`not_object`) when the stored value is not an object.
   */
  merge<T extends object = Record<string, unknown>>(key: string, patch: Partial<T>, options?: MergeOptions): Promise<boolean> {
    return this.send({ op: 'merge', key, value: patch, ttl: options?.ttl }, mergedOf);
  }

  /** Delete `key`. Resolves whether it existed. */
  delete(key: string): Promise<boolean> {
    return this.send({ op: 'delete', key }, deletedOf);
  }

  /** Whether `key` holds a live value. */
  exists(key: string): Promise<boolean> {
    if (this.near === undefined) return this.send({ op: 'exists', key }, existsOf);
    try {
      return this.nearRead(this.parse({ op: 'exists', key }) as ExistsCommand, existsOf);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Add `amount` (default 1) to the number at `key`, atomically; an absent key starts at 0.
   * Throws LixTypeError (`non_numeric`) when the value is not a number. Never retried
   * once the request may have reached the server, so it never counts twice.
   */
  incr(key: string, amount = 1, options?: IncrOptions): Promise<number> {
    return this.send({ op: 'incr', key, amount, ttl: options?.ttl }, numberOf);
  }

  /** Subtract `amount` (default 1); may go negative. See `incr`. */
  decr(key: string, amount = 1, options?: IncrOptions): Promise<number> {
    return this.send({ op: 'decr', key, amount, ttl: options?.ttl }, numberOf);
  }

  /** Reset the TTL of `key` to `ttl` seconds (0 removes it). Resolves false when the key is absent. */
  expire(key: string, ttl: number): Promise<boolean> {
    return this.send({ op: 'expire', key, ttl }, expiredOf);
  }

  /** Delete every key tagged `tag`. Resolves how many were deleted. */
  invalidate(tag: string): Promise<number> {
    return this.send({ op: 'invalidate', tag }, invalidatedOf);
  }

  /** Delete everything. Resolves `{ success: true, cleared }`, `cleared` being how many keys were deleted. */
  clear(): Promise<ClearResult> {
    return this.send({ op: 'clear' }, clearedOf);
  }

  // ---- scan ---------------------------------------------------------------

  /**
   * List keys by prefix and/or tag: `scan('user:')`, `scan('user:', { keysOnly: true })`,
   * `scan({ prefix: 'session:', tag, limit, cursor })`. Without `limit`/`cursor` every match
   * comes back at once; with them, one page and the `cursor` of the next.
   */
  scan(prefix: string | undefined, options: ScanOptions & KeysOnly): Promise<ScanKeysPage>;
  scan(options: ScanOptions & KeysOnly): Promise<ScanKeysPage>;
  scan<T = unknown>(prefix?: string, options?: ScanOptions & { keysOnly?: false }): Promise<ScanPage<T>>;
  scan<T = unknown>(options: ScanOptions & { keysOnly?: false }): Promise<ScanPage<T>>;
  scan<T = unknown>(prefixOrOptions?: string | ScanOptions, options?: ScanOptions): Promise<ScanPage<T> | ScanKeysPage>;
  async scan<T = unknown>(prefixOrOptions?: string | ScanOptions, options?: ScanOptions): Promise<ScanPage<T> | ScanKeysPage> {
    const opts = scanOptions(prefixOrOptions, options);
    if (opts.limit !== undefined || (opts.cursor !== undefined && opts.cursor !== null)) {
      return pageOf<T>(await this.scanPage(opts));
    }
    const items: ScanItem<T>[] = [];
    const keys: string[] = [];
    const walk = new CursorWalk(undefined);
    let cursor: string | null | undefined;
    do {
      const page = await this.scanPage({ ...opts, limit: FULL_SCAN_PAGE, cursor });
      cursor = walk.next(page.cursor);
      if (page.keys) for (const key of page.keys) keys.push(key);
      if (page.items) for (const item of page.items) items.push(item as ScanItem<T>);
    } while (cursor);
    return opts.keysOnly ? { keys, count: keys.length, cursor: null } : { items, count: items.length, cursor: null };
  }

  /** Every match, page by page (`limit` sets the page size): `for await (const { key, value } of cache.scanAll({ prefix }))`. */
  scanAll(prefix: string | undefined, options: ScanOptions & KeysOnly): AsyncIterableIterator<string>;
  scanAll(options: ScanOptions & KeysOnly): AsyncIterableIterator<string>;
  scanAll<T = unknown>(prefix?: string, options?: ScanOptions & { keysOnly?: false }): AsyncIterableIterator<ScanItem<T>>;
  scanAll<T = unknown>(options: ScanOptions & { keysOnly?: false }): AsyncIterableIterator<ScanItem<T>>;
  async *scanAll<T = unknown>(prefixOrOptions?: string | ScanOptions, options?: ScanOptions): AsyncIterableIterator<ScanItem<T> | string> {
    const opts = scanOptions(prefixOrOptions, options);
    let cursor = opts.cursor;
    const walk = new CursorWalk(cursor);
    do {
      const page = await this.scanPage({ ...opts, limit: opts.limit ?? FULL_SCAN_PAGE, cursor });
      cursor = walk.next(page.cursor); // before yielding: a page that repeats a cursor may repeat its keys too
      if (page.keys) yield* page.keys;
      if (page.items) yield* page.items as ScanItem<T>[];
    } while (cursor);
  }

  private scanPage(opts: ScanOptions): Promise<ScanResult> {
    return this.send({ op: 'scan', ...opts }, scanOf);
  }

  // ---- batch, stats, health -------------------------------------------------

  /**
   * Run raw commands in order, in one request (split at `maxBatchSize`). Each command
   * gets its own result; an invalid or failed command gets an ErrorResult in its place
   * and the others still run. Only transport failures (server down, auth) throw.
   * Takes the original SDK's {@link BatchOperation}s too.
   */
  async batch(commands: readonly (Command | BatchOperation)[]): Promise<Result[]> {
    if (!Array.isArray(commands)) {
      throw new LixValidationError('invalid_body', 'batch() takes an array of commands such as [{ op: "get", key: "user:1" }].', [
        { message: 'not an array' },
      ]);
    }
    if (this.closed) throw closedError();
    return Promise.all(
      commands.map((input) => {
        try {
          const command = parseCommand(input, this.transport.limits);
          this.near?.passing(command);
          return this.transport.immediate ? this.batcher.sendNow(command, raw) : this.batcher.enqueue(command, raw);
        } catch (error) {
          return Promise.resolve(errorResult(input, fromCoreError(error)));
        }
      }),
    );
  }

  /** Size, limit, memory and hit/miss/eviction/expiration/operation counters (also nested under `stats`). */
  async stats(): Promise<CacheStats> {
    return statsOf(await this.transport.stats());
  }

  /** Whether the cache answers: `{ ok: true, status: 'healthy' }`. Never throws: a failure is `{ ok: false, status: 'unhealthy', message }`. */
  async health(): Promise<CacheHealth> {
    return healthOf(await this.transport.health());
  }

  // ---- cache-aside ----------------------------------------------------------

  /**
   * The value at `key`; when missing, run `fn`, store its result (with `ttl`, `tags`) and
   * return it. Concurrent calls for one key share one run of `fn`. `undefined` is not stored.
   */
  remember<T>(key: string, fn: () => T | Promise<T>, options?: RememberOptions): Promise<T> {
    return this.rememberWith(key, fn, options);
  }

  /** @internal remember with optional schema checks, shared by Collection and Value. */
  rememberWith<T>(
    key: string,
    fn: () => T | Promise<T>,
    options: RememberOptions | undefined,
    check?: (value: unknown, direction: 'write' | 'read') => Promise<T>,
  ): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(new LixValidationError('invalid_value', `remember("${key}", fn): fn must be a function that computes the value.`, [{ message: 'fn is not a function' }]));
    return this.inflight.share(key, async () => {
      const entry = await this.getEntry<T>(key);
      if (entry) return check ? check(entry.value, 'read') : entry.value;
      let value = await fn();
      if (value === undefined) return value;
      if (check) value = await check(value, 'write');
      await this.set(key, value, { ttl: options?.ttl, tags: options?.tags });
      return value;
    });
  }

  /** @internal One computation per key at a time, for Collection.rememberAll. */
  rememberShare<T>(key: string, start: () => Promise<T>): Promise<T> {
    return this.inflight.share(key, start);
  }

  /**
   * Cache a list item by item: `fn` fetches the list, each item is stored at
   * `prefix + getKey(item)` with `ttl`. With `listTTL`, later calls read the items from the cache
   * until the list expires. Resolves `{ items, getBy(id) }`.
   */
  rememberAll<T>(prefix: string, fn: () => T[] | Promise<T[]>, options: RememberAllOptions<T>): Promise<RememberAllResult<T>> {
    return this.collection<T>(prefix).rememberAll(fn, options);
  }

  // ---- typed views ----------------------------------------------------------

  /**
   * Keys under `prefix`, typed, and validated on write and read when a schema is given
   * (Zod, Valibot, ArkType or any Standard Schema). The type comes from the schema when
   * there is one: `cache.collection('user:', UserSchema)`; else `cache.collection<User>('user:')`.
   */
  collection<S extends Schema<any>>(prefix: string, schema: S): Collection<InferSchema<S>>;
  collection<T = unknown>(prefix: string, schema?: Schema<T>): Collection<T>;
  collection<T>(prefix: string, schema?: Schema<T>): Collection<T> {
    if (typeof prefix !== 'string') throw new LixValidationError('invalid_key', `collection(prefix) takes a string prefix such as "user:"; got ${typeof prefix}.`, [{ message: 'prefix is not a string' }]);
    checkSchema(schema, `collection("${prefix}")`);
    return new Collection<T>(this, prefix, schema);
  }

  /** One key, typed, validated on write and read when a schema is given. */
  value<S extends Schema<any>>(key: string, schema: S): Value<InferSchema<S>>;
  value<T = unknown>(key: string, schema?: Schema<T>): Value<T>;
  value<T>(key: string, schema?: Schema<T>): Value<T> {
    checkSchema(schema, `value("${key}")`);
    return new Value<T>(this, key, schema);
  }

  /** Release connections (and, for `memory://`, this client's hold on the shared engine). Later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.nearWatch?.close();
    await this.transport.close();
  }
}

/** What the server would answer for a read the near cache holds. */
function heldResult(command: GetCommand | ExistsCommand, held: Held): Result {
  const found = held.text !== undefined;
  if (command.op === 'exists') return { op: 'exists', key: command.key, exists: found };
  const ttl = held.expiresAt === Infinity ? null : Math.max(0.001, Math.ceil(held.expiresAt - Date.now()) / 1000);
  return { op: 'get', key: command.key, value: found ? (JSON.parse(held.text!) as Json) : null, ttl: found ? ttl : null, found };
}

function closedError(): LixCacheError {
  return new LixCacheError('closed', 'This LixCache was closed. Create a new LixCache to keep using the cache.');
}

/**
 * The cursors of one scan walk. A walk ends only when the server answers a null cursor;
 * a server that hands back a cursor it already gave in this walk (the same one on an
 * empty page, or a cycle) would loop forever, so that rejects instead. Every cursor is
 * new, so the walk visits each position of the server's keyspace at most once.
 */
class CursorWalk {
  private readonly seen = new Set<string>();

  constructor(start: string | null | undefined) {
    if (start) this.seen.add(start);
  }

  /** The cursor to send next (falsy: the walk is complete). */
  next(cursor: string | null | undefined): string | null | undefined {
    if (!cursor) return cursor;
    if (this.seen.has(cursor)) {
      throw malformed(`the scan cursor ${describe(cursor)} a second time in one walk (a repeating cursor), so following it would loop forever`);
    }
    this.seen.add(cursor);
    return cursor;
  }
}

function scanOptions(prefixOrOptions: string | ScanOptions | undefined, options: ScanOptions | undefined): ScanOptions {
  if (typeof prefixOrOptions === 'string') return { ...options, prefix: prefixOrOptions };
  if (prefixOrOptions === undefined || prefixOrOptions === null) return { ...options };
  if (typeof prefixOrOptions === 'object') return prefixOrOptions;
  throw new LixValidationError('invalid_scan', `scan() takes a prefix string or an options object such as { prefix: "user:" }; got ${typeof prefixOrOptions}.`, [
    { message: 'invalid scan arguments' },
  ]);
}

function pageOf<T>(page: ScanResult): ScanPage<T> | ScanKeysPage {
  if (page.keys) return { keys: page.keys, count: page.count, cursor: page.cursor ?? null };
  return { items: (page.items ?? []) as ScanItem<T>[], count: page.count, cursor: page.cursor ?? null };
}

function errorResult(input: unknown, error: unknown): ErrorResult {
  const command = (typeof input === 'object' && input !== null ? input : {}) as { op?: unknown; key?: unknown };
  const result: ErrorResult = {
    op: typeof command.op === 'string' ? command.op : String(command.op),
    error: {
      code: error instanceof LixCacheError ? error.code : 'invalid_command',
      message: error instanceof Error ? error.message : String(error),
    },
  };
  if (typeof command.key === 'string') result.key = command.key;
  return result;
}
