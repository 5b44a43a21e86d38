import type { StandardSchemaV1 } from '@standard-schema/spec';
import { LixCache } from 'lix-cache-sdk';
import type { IpBinding } from './client-ip';
import { isStandardSchema } from './schema';

/** Options of `new SessionStore(options)`. Every one is optional. */
export interface SessionStoreOptions<D extends object = SessionData> {
  /**
   * The cache that holds the sessions: a `LixCache` client, or a URL for a new one
   * (`http://…`, `memory://name`, `redis://…`). Default: `new LixCache()`, which reads
   * `LIX_CACHE_URL` (else `http://localhost:4000`).
   */
  cache?: LixCache | string;
  /**
   * Seconds a session lives, as in the seed's `SessionStore` (default 3600). With sliding
   * expiration (the default, see `idleTimeout`) this is the idle timeout: each use starts
   * it again. With `idleTimeout: false` a session ends `ttl` seconds after it was created
   * or last `refresh()`ed, however often it is used.
   */
  ttl?: number;
  /**
   * Sliding expiration: seconds a session may sit unused. Every `get` resets the key's TTL
   * to this value in the same cache operation that reads it (one round trip). Default: `ttl`.
   * `false` turns sliding off (the session then lives exactly `ttl`).
   */
  idleTimeout?: number | false;
  /**
   * With a near cache (the `cache` client created with `nearCache`), sessions are read in-process
   * and the idle timeout slides by a touch sent from here at most once per session per this many
   * seconds, batched with other commands; an idle session may therefore end up to this much early.
   * Default: a tenth of the idle timeout, at most 60. Without a near cache every read slides in its
   * own round trip and this is unused.
   */
  touchInterval?: number;
  /**
   * Seconds after creation when a session ends however active it is (default 86400, one
   * day). Counts from `createdAt`, which `regenerate` keeps. `false` for no limit. Remember-me
   * tokens are the way to keep users signed in for longer.
   */
  absoluteTimeout?: number | false;
  /**
   * Prefix of the session keys (default `'session:'`). A session is stored under
   * `prefix + sha256(id)`; the id itself never reaches the cache. Give each app its own
   * prefix when apps share a cache, since `metrics()` scans it.
   */
  prefix?: string;
  /**
   * A Zod, Valibot, ArkType or any Standard Schema for the session data. It checks the data
   * plus `userId`, `createdAt` and `lastAccess` on every write (`create`, `update`) and every
   * read (`get`): a write that fails throws `SessionValidationError` and writes nothing; a
   * stored session that no longer matches (an older schema) is deleted and reads as null.
   * Use an object schema that allows or declares those three fields. Its output type types
   * the sessions.
   */
  schema?: StandardSchemaV1<unknown, D>;
  /**
   * Most live sessions per user. Creating one more ends the oldest ones (by creation), and
   * this holds under concurrent logins: once they finish, exactly the newest this many work.
   * Default: no limit.
   */
  maxSessionsPerUser?: number;
  /**
   * Concurrent-login prevention: creating a session ends all of the user's other sessions
   * and remember-me tokens. Of logins made at once, only the newest session survives. Default `false`.
   */
  exclusive?: boolean;
  /**
   * Bind a session to the client that created it. `ip`: `'exact'` (same address),
   * `'subnet'` (same IPv4 /24 or IPv6 /64, kinder to mobile users), `'off'` (default).
   * `userAgent`: the User-Agent must stay the same (default `false`). A session presented
   * by another client is deleted and reads as null. `get` then needs `{ ip, userAgent }`.
   */
  binding?: { ip?: IpBinding; userAgent?: boolean };
  /** Remember-me tokens (see `issueRememberToken`). */
  rememberMe?: RememberMeOptions;
  /** `metrics()` counts a session as active when it was used within this many seconds. Default 300. */
  activeWindow?: number;
}

/** Options of remember-me tokens. */
export interface RememberMeOptions {
  /** Seconds a remember-me token lives (default 2592000, 30 days). Each use issues a fresh one. */
  ttl?: number;
  /** Prefix of the remember-me keys (default `'remember:'`). Tokens are stored hashed. */
  prefix?: string;
  /**
   * Seconds after a rotation during which the token just replaced is still accepted once
   * more, without a theft alarm, for browsers that send two requests with the old cookie
   * at once (default 0: any reuse is treated as theft).
   */
  reuseGrace?: number;
}

/** Session data when the store has no schema: any JSON object. */
export type SessionData = Record<string, unknown>;

/** The options, checked and with their defaults, computed once per store. */
export interface ResolvedOptions<D extends object> {
  cache: LixCache;
  ttl: number;
  /** 0 when sliding is off. */
  idleTimeout: number;
  /** Milliseconds; 0 for none. */
  absoluteMs: number;
  /** Seconds (for cookie lifetimes); 0 for none. */
  absoluteTimeout: number;
  /** Seconds between two touches of one session from one process, with a near cache. */
  touchInterval: number;
  prefix: string;
  userTagPrefix: string;
  schema: StandardSchemaV1<unknown, D> | undefined;
  maxSessionsPerUser: number;
  exclusive: boolean;
  ipBinding: IpBinding;
  userAgentBinding: boolean;
  rememberTtl: number;
  rememberPrefix: string;
  rememberTagPrefix: string;
  reuseGraceMs: number;
  activeWindowMs: number;
}

const KNOWN = new Set([
  'cache',
  'ttl',
  'idleTimeout',
  'absoluteTimeout',
  'touchInterval',
  'prefix',
  'schema',
  'maxSessionsPerUser',
  'exclusive',
  'binding',
  'rememberMe',
  'activeWindow',
]);

function fail(message: string): never {
  throw new TypeError(`SessionStore: ${message}`);
}

function seconds(value: unknown, name: string, fallback: number, allowFalse = false): number {
  if (value === undefined) return fallback;
  if (allowFalse && value === false) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`"${name}" must be a positive number of seconds${allowFalse ? ' or false' : ''}; got ${String(value)}.`);
  }
  return value;
}

function prefixOption(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) fail(`"${name}" must be a non-empty string such as '${fallback}'; got ${String(value)}.`);
  return value;
}

/** Check the options once, in the constructor, and fill in the defaults. */
export function resolveOptions<D extends object>(options: SessionStoreOptions<D> = {}): ResolvedOptions<D> {
  if (typeof options !== 'object' || options === null) fail(`options must be an object such as { ttl: 3600 }; got ${String(options)}.`);
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) fail(`unknown option "${name}". Known options: ${[...KNOWN].join(', ')}.`);
  }

  let cache: LixCache;
  if (options.cache === undefined || typeof options.cache === 'string') cache = new LixCache(options.cache === undefined ? {} : { url: options.cache });
  else if (options.cache instanceof LixCache) cache = options.cache;
  else fail('"cache" must be a LixCache client or a URL string such as "http://localhost:4000".');

  const ttl = seconds(options.ttl, 'ttl', 3600);
  const idleTimeout = seconds(options.idleTimeout, 'idleTimeout', ttl, true);
  const absoluteTimeout = seconds(options.absoluteTimeout, 'absoluteTimeout', 86_400, true);
  const touchInterval = seconds(options.touchInterval, 'touchInterval', Math.min(60, (idleTimeout || ttl) / 10));
  if (idleTimeout && touchInterval >= idleTimeout) fail(`"touchInterval" (${touchInterval}) must be shorter than the idle timeout (${idleTimeout}), or sessions in use would expire.`);
  const prefix = prefixOption(options.prefix, 'prefix', 'session:');

  if (options.schema !== undefined && !isStandardSchema(options.schema)) {
    fail('"schema" must be a Standard Schema (a Zod, Valibot or ArkType schema, for example).');
  }

  const max = options.maxSessionsPerUser;
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
    fail(`"maxSessionsPerUser" must be a whole number ≥ 1; got ${String(max)}.`);
  }
  if (options.exclusive !== undefined && typeof options.exclusive !== 'boolean') fail(`"exclusive" must be true or false; got ${String(options.exclusive)}.`);

  const binding = options.binding ?? {};
  if (typeof binding !== 'object' || binding === null) fail(`"binding" must be an object such as { ip: 'subnet', userAgent: true }.`);
  const ipBinding = binding.ip ?? 'off';
  if (ipBinding !== 'off' && ipBinding !== 'exact' && ipBinding !== 'subnet') fail(`"binding.ip" must be 'off', 'exact' or 'subnet'; got ${String(ipBinding)}.`);
  if (binding.userAgent !== undefined && typeof binding.userAgent !== 'boolean') fail(`"binding.userAgent" must be true or false.`);

  const remember = options.rememberMe ?? {};
  if (typeof remember !== 'object' || remember === null) fail(`"rememberMe" must be an object such as { ttl: 2592000 }.`);
  const rememberPrefix = prefixOption(remember.prefix, 'rememberMe.prefix', 'remember:');
  const reuseGrace = remember.reuseGrace === 0 ? 0 : seconds(remember.reuseGrace, 'rememberMe.reuseGrace', 0);

  return {
    cache,
    ttl,
    idleTimeout,
    absoluteMs: absoluteTimeout * 1000,
    absoluteTimeout,
    touchInterval,
    prefix,
    userTagPrefix: `${prefix}user:`,
    schema: options.schema,
    maxSessionsPerUser: max ?? 0,
    exclusive: options.exclusive ?? false,
    ipBinding,
    userAgentBinding: binding.userAgent ?? false,
    rememberTtl: seconds(remember.ttl, 'rememberMe.ttl', 2_592_000),
    rememberPrefix,
    rememberTagPrefix: `${rememberPrefix}user:`,
    reuseGraceMs: reuseGrace * 1000,
    activeWindowMs: seconds(options.activeWindow, 'activeWindow', 300) * 1000,
  };
}
