import { DEFAULT_LIMITS } from 'lix-cache-core';
import { LixCacheError } from './errors';
import { DEFAULT_NEAR_BYTES, DEFAULT_NEAR_ENTRIES, type NearCacheOptions } from './near-cache';

/** Where warnings go. */
export interface LixLogger {
  warn(message: string): void;
}

/** Options of `new LixCache(config)`. Every one is optional. */
export interface LixCacheConfig {
  /**
   * Where the cache lives, chosen by scheme:
   * - `http://host:port`, `https://…`: a Lix Cache server;
   * - `memory://[name][?dataDir=/path]`: an in-process MemoryEngine, shared by every client
   *   in this process that uses the same URL (tests and single-process apps need no server);
   * - `redis://[user:pass@]host:port[/db][?keyPrefix=lix:]`, `rediss://…`,
   *   `redis-cluster://host1:port1,host2:port2`, `rediss-cluster://…`: straight to Valkey/Redis
   *   (RedisEngine; clients in this process with the same URL share one connection).
   *
   * Default: the `LIX_CACHE_URL` environment variable, else `http://localhost:4000`.
   */
  url?: string;
  /** API key sent as `Authorization: Bearer <key>`. Default: `LIX_CACHE_API_KEY`. */
  apiKey?: string;
  /** Milliseconds to wait for each request before failing with `LixTimeoutError`. Default 5000. */
  timeout?: number;
  /**
   * Most bytes of one HTTP response this client reads (http/https URLs only). A bigger
   * answer is cut off as it streams in, before it is held in memory, and the call rejects
   * with `LixResponseTooLargeError` (code `response_too_large`); the client keeps working.
   * Default 128 MiB (134217728): above the server's default response budget
   * (LIX_MAX_RESPONSE_BYTES, 64 MiB), so a server's normal answer always fits. At most
   * 512 MiB, the longest string JavaScript can hold.
   */
  maxResponseBytes?: number;
  /** Retries after a failure where repeating is safe (see README). Default 3. */
  maxRetries?: number;
  /** Milliseconds before the first retry; doubles on each further retry. Default 100. */
  retryDelay?: number;
  /**
   * Automatic batching: every command issued in one tick goes out as one request, and
   * identical gets in it share one command. `false` sends each command on its own.
   * Default `true`, or an object to tune it (see {@link BatchingOptions}).
   */
  batching?: boolean | BatchingOptions;
  /**
   * Milliseconds a batch collects commands before it is sent (from the original Lix Cache SDK).
   * Default 0: one tick, which already batches everything issued together without waiting.
   * A window trades that much latency for fewer, larger requests. Used by http(s):// URLs with
   * batching on: memory:// and redis:// run each command at once (ioredis pipelines on its own).
   */
  batchWindow?: number;
  /**
   * Keep values this client reads in this process and answer repeated reads from there, with
   * no round trip. The server pushes every change over a long-lived channel (`GET /cache/events`;
   * in-process engines report their own), so a copy is dropped within milliseconds of a write
   * anywhere; while that channel is down, nothing is cached and every read goes to the cache.
   * Plain `get`, `getEntry` and `exists` are served locally; a get with `touch` always goes out.
   * `true` for the defaults, or see {@link NearCacheOptions}. Default off.
   */
  nearCache?: boolean | NearCacheOptions;
  /** From the original Lix Cache SDK: `true` is `nearCache: true` (ignored when `nearCache` is given). */
  localCache?: boolean;
  /** From the original Lix Cache SDK: seconds a `localCache` entry lives at most: `nearCache.ttl`. */
  localCacheTTL?: number;
  /** Receives warnings (e.g. "remote server without an API key"). Default `console`. */
  logger?: LixLogger;
}

/** Tuning of automatic batching (`batching: { … }`). */
export interface BatchingOptions {
  /**
   * Most commands in one request (default 1000, the server's default `LIX_MAX_BATCH`);
   * bigger batches are split into several requests.
   */
  maxBatchSize?: number;
  /**
   * Most batch requests unanswered at once (default 2). While that many are out, new
   * commands wait in the queue and leave together as one request when one is answered:
   * no added latency when idle, fewer and larger requests under load. 1 sends one batch
   * at a time (the most coalescing); higher values overlap more round trips.
   */
  maxInFlight?: number;
}

export interface ResolvedConfig {
  /** The URL as given. */
  url: string;
  /** Its scheme without the colon: http, https, memory, redis, rediss, redis-cluster, rediss-cluster. */
  scheme: string;
  apiKey: string | undefined;
  timeout: number;
  maxResponseBytes: number;
  maxRetries: number;
  retryDelay: number;
  batching: boolean;
  maxBatchSize: number;
  maxInFlight: number;
  /** 0: flush each tick. */
  batchWindow: number;
  /** The near cache's checked options; undefined: off. */
  nearCache: ResolvedNearCache | undefined;
  logger: LixLogger;
}

export interface ResolvedNearCache {
  maxEntries: number;
  maxBytes: number;
  prefixes: string[] | undefined;
  ttl: number | undefined;
}

/** Most prefixes one broadcast channel takes (the server's limit too). */
const MAX_NEAR_PREFIXES = 32;

export const DEFAULT_URL = 'http://localhost:4000';

/** 128 MiB: twice the server's default LIX_MAX_RESPONSE_BYTES, so a default server's answers always fit. */
export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024;
/** V8's longest string (2^29 - 24 UTF-16 units in 64-bit Node and Chromium): a response is decoded into one. */
const MAX_RESPONSE_BYTES = 2 ** 29 - 24;

/** Batch requests in flight per client: 2 overlaps one round trip with the next batch; more only spends CPU on smaller requests (measured, see README). */
const DEFAULT_MAX_IN_FLIGHT = 2;

/** setTimeout's longest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const SCHEMES = ['http', 'https', 'memory', 'redis', 'rediss', 'redis-cluster', 'rediss-cluster'];

function env(name: string): string | undefined {
  // globalThis.process: browsers have no process object.
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === '' ? undefined : value;
}

function invalid(message: string): LixCacheError {
  return new LixCacheError('invalid_config', message);
}

function number(value: unknown, name: string, fallback: number, { integer = false, min = 0, max = Infinity } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
    throw invalid(`LixCache option "${name}" must be a ${integer ? 'whole ' : ''}number ${range}; got ${String(value)}.`);
  }
  return value;
}

/** Check the user's config once and fill in the defaults. */
export function resolveConfig(config: LixCacheConfig = {}): ResolvedConfig {
  if (typeof config !== 'object' || config === null) {
    throw invalid(`new LixCache(config) takes an options object such as { url: 'http://localhost:4000' }; got ${String(config)}.`);
  }
  const rawUrl = config.url ?? env('LIX_CACHE_URL') ?? DEFAULT_URL;
  if (typeof rawUrl !== 'string') throw invalid(`LixCache option "url" must be a string; got ${typeof rawUrl}.`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rawUrl)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw invalid(`"${rawUrl}" is not a URL. Use e.g. http://localhost:4000, memory://, or redis://localhost:6379.`);
  }
  if (!SCHEMES.includes(scheme)) {
    throw invalid(`Unsupported URL scheme "${scheme}://" in "${rawUrl}". Use ${SCHEMES.map((s) => `${s}://`).join(', ')}.`);
  }
  // Redis URLs (cluster ones list several hosts) are parsed by RedisEngine; the rest must be WHATWG URLs.
  if (!scheme.startsWith('redis')) {
    try {
      new URL(rawUrl);
    } catch {
      throw invalid(`"${rawUrl}" is not a valid URL. Use e.g. http://localhost:4000 or memory://name.`);
    }
  }
  const apiKey = config.apiKey ?? env('LIX_CACHE_API_KEY');
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) {
    throw invalid('LixCache option "apiKey" must be a non-empty string (or leave it out).');
  }
  let batching = true;
  let maxBatchSize = DEFAULT_LIMITS.maxBatch;
  let maxInFlight = DEFAULT_MAX_IN_FLIGHT;
  if (typeof config.batching === 'boolean') batching = config.batching;
  else if (typeof config.batching === 'object' && config.batching !== null) {
    maxBatchSize = number(config.batching.maxBatchSize, 'batching.maxBatchSize', maxBatchSize, { integer: true, min: 1 });
    maxInFlight = number(config.batching.maxInFlight, 'batching.maxInFlight', maxInFlight, { integer: true, min: 1 });
  } else if (config.batching !== undefined) {
    throw invalid(`LixCache option "batching" must be true, false or { maxBatchSize, maxInFlight }; got ${String(config.batching)}.`);
  }
  if (config.localCache !== undefined && typeof config.localCache !== 'boolean') {
    throw invalid(`LixCache option "localCache" must be true or false; got ${String(config.localCache)}.`);
  }
  const localCacheTTL = number(config.localCacheTTL, 'localCacheTTL', 0) || undefined;
  const logger = config.logger ?? console;
  if (typeof logger?.warn !== 'function') throw invalid('LixCache option "logger" must have a warn(message) method.');
  return {
    url: rawUrl,
    scheme,
    apiKey,
    timeout: number(config.timeout, 'timeout', 5000, { min: 1 }),
    maxResponseBytes: number(config.maxResponseBytes, 'maxResponseBytes', DEFAULT_MAX_RESPONSE_BYTES, { integer: true, min: 1, max: MAX_RESPONSE_BYTES }),
    maxRetries: number(config.maxRetries, 'maxRetries', 3, { integer: true }),
    retryDelay: number(config.retryDelay, 'retryDelay', 100),
    batching,
    maxBatchSize,
    maxInFlight,
    batchWindow: number(config.batchWindow, 'batchWindow', 0, { max: MAX_TIMER_MS }),
    nearCache: resolveNearCache(config.nearCache ?? (config.localCache === true ? { ttl: localCacheTTL } : undefined)),
    logger,
  };
}

function resolveNearCache(option: boolean | NearCacheOptions | undefined): ResolvedNearCache | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null || Array.isArray(option))) {
    throw invalid(`LixCache option "nearCache" must be true, false or { maxEntries, maxBytes, prefixes, ttl }; got ${String(option)}.`);
  }
  const options: NearCacheOptions = option === true ? {} : option;
  const { prefixes } = options;
  if (
    prefixes !== undefined &&
    (!Array.isArray(prefixes) || prefixes.length === 0 || prefixes.length > MAX_NEAR_PREFIXES || !prefixes.every((prefix) => typeof prefix === 'string' && prefix !== ''))
  ) {
    throw invalid(`LixCache option "nearCache.prefixes" must be 1 to ${MAX_NEAR_PREFIXES} non-empty key prefixes such as ['session:']; got ${String(prefixes)}.`);
  }
  return {
    maxEntries: number(options.maxEntries, 'nearCache.maxEntries', DEFAULT_NEAR_ENTRIES, { integer: true, min: 1 }),
    maxBytes: number(options.maxBytes, 'nearCache.maxBytes', DEFAULT_NEAR_BYTES, { integer: true, min: 1024 }),
    prefixes: prefixes === undefined ? undefined : [...prefixes],
    ttl: options.ttl === undefined ? undefined : number(options.ttl, 'nearCache.ttl', 0, { min: 0.001 }),
  };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1|\[::ffff:127(\.\d{1,3}){3}\])$/i;

/** Whether a URL's host is this machine. */
export function isLocalHost(hostname: string): boolean {
  return LOOPBACK.test(hostname) || hostname.endsWith('.localhost');
}
