/**
 * lix-cache-session/express-session: `LixSessionStore`, a connect-redis 9 compatible store for
 * express-session and @fastify/session on Lix Cache (ids hashed before they reach the cache).
 * @module lix-cache-session/express-session
 */
import type { LixCache } from 'lix-cache-sdk';
import { expressSessionStoreBase } from './express-session-base';
import { describe, resolveStoreOptions, type LixSessionStoreOptions, type Serializer } from './express-session-store-options';
import { sha256 } from './tokens';

export type { LixSessionStoreOptions, Serializer } from './express-session-store-options';

const Store = expressSessionStoreBase();

/** What this store reads from a session: its cookie (after JSON, `expires` is a string). */
export interface StoredExpressSession {
  cookie: { expires?: Date | string | null; maxAge?: number | null; originalMaxAge?: number | null };
}

/**
 * A node-style callback. Callbacks that hand sessions back take `any`, as connect-redis's do:
 * express-session's `SessionData` is augmented by each app, so no fixed type could be assigned to it.
 */
type Callback<T = unknown> = (error: any, result?: T) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** How `ids()` and `all()` mark a stored id hash, so that it can never be taken for a session id. */
export const STORED_ID_PREFIX = 'sha256:';
const HASH = /^[A-Za-z0-9_-]{43}$/;

let warnedRawIds = false;

/**
 * A store for express-session (and @fastify/session) on Lix Cache: a drop-in replacement for
 * connect-redis 9, with the same options (`cache` stands for `client`) and API.
 *
 * ```ts
 * import session from 'express-session';
 * import { LixSessionStore } from 'lix-cache-session/express-session';
 * app.use(session({ store: new LixSessionStore(), secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
 * ```
 *
 * Every method returns a promise and also calls its callback when given one (then the promise
 * resolves to what the callback returns, and errors go to the callback only), as in connect-redis 9.
 *
 * Each session lives as long as its cookie (`cookie.maxAge` / `expires`), else `ttl`.
 * Session ids are stored hashed (SHA-256), so nobody who can read the cache learns one, and
 * they cannot be given back: `ids()` resolves stored ids, `"sha256:" + hash` of each session id,
 * and `all()` the sessions with `id` set to that stored id. `destroy()` takes a stored id (to log
 * a user out everywhere: `all()`, filter, `destroy(session.id)`); `get`, `set` and `touch` refuse
 * one with a TypeError, so a hash never loads, saves or extends a session. Ids starting with
 * `"sha256:"` are therefore reserved. With `hashIds: false` ids are stored as they are, as in connect-redis.
 */
export class LixSessionStore extends Store {
  /** The cache the sessions live in. */
  readonly cache: LixCache;
  /** Key prefix: keys are `prefix + sha256(sid)` (`prefix + sid` with `hashIds: false`). */
  readonly prefix: string;
  /** Keys per page when walking the sessions. */
  readonly scanCount: number;
  /** How sessions are encoded (`JSON` by default: stored as JSON objects). */
  readonly serializer: Serializer;
  /** Seconds for a session whose cookie has no expiry, or a function that decides every TTL. */
  readonly ttl: number | ((session: any) => number); // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Sessions are stored without a TTL. */
  readonly disableTTL: boolean;
  /** `touch` keeps the TTL. */
  readonly disableTouch: boolean;
  /** Session ids are stored as SHA-256 hashes (true unless `hashIds: false`). */
  readonly hashIds: boolean;
  /** The tag every session of this store carries (for `all`, `ids`, `length`, `clear`). */
  private readonly tag: string;

  constructor(options: LixSessionStoreOptions = {}) {
    super();
    const resolved = resolveStoreOptions(options);
    this.cache = resolved.cache;
    this.prefix = resolved.prefix;
    this.scanCount = resolved.scanCount;
    this.serializer = resolved.serializer;
    this.ttl = resolved.ttl;
    this.disableTTL = resolved.disableTTL;
    this.disableTouch = resolved.disableTouch;
    this.hashIds = resolved.hashIds;
    this.tag = `${this.prefix}all`;
    if (!this.hashIds && !warnedRawIds) {
      warnedRawIds = true;
      process.emitWarning(
        'LixSessionStore with hashIds: false stores session ids in the cache as they are: anyone who can read the cache can use them. ' +
          'Remove hashIds: false once you no longer need raw ids from ids() and all().',
        { type: 'LixCacheWarning', code: 'LIX_SESSION_RAW_IDS' },
      );
    }
  }

  /** connect-redis's name for {@link LixSessionStore.cache}. */
  get client(): LixCache {
    return this.cache;
  }

  /** The session of `sid`, or null. */
  get(sid: string, callback?: Callback<any>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => {
      const key = this.keyOf(sid, 'get');
      const value = await this.cache.get(key);
      return value === null || value === undefined ? null : await this.decode(value, key);
    }, callback);
  }

  /** Store `session` for its cookie's lifetime (else `ttl`); one whose cookie already expired is deleted. */
  set(sid: string, session: StoredExpressSession, callback?: Callback<void>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => {
      const key = this.keyOf(sid, 'set');
      const ttl = this.ttlOf(session);
      if (!(ttl > 0)) {
        await this.cache.delete(key);
        return;
      }
      const value = this.encode(session);
      await this.cache.set(key, value, this.disableTTL ? { tags: [this.tag] } : { ttl, tags: [this.tag] });
    }, callback);
  }

  /** Reset the TTL of `sid` from `session`'s cookie (nothing with `disableTouch` or `disableTTL`). */
  touch(sid: string, session: StoredExpressSession, callback?: Callback<void>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => {
      const key = this.keyOf(sid, 'touch');
      if (this.disableTouch || this.disableTTL) return;
      const ttl = this.ttlOf(session);
      if (ttl > 0) await this.cache.expire(key, ttl);
      else await this.cache.delete(key);
    }, callback);
  }

  /** Delete the session of `sid`, or of a stored id from `ids()` / `all()`. */
  destroy(sid: string, callback?: Callback<void>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => {
      await this.cache.delete(this.isStoredId(sid) ? this.keyOfStoredId(sid) : this.keyOf(sid, 'destroy'));
    }, callback);
  }

  /** Every live session of this store, each with `id` set to its stored id (see the class notes). */
  all(callback?: Callback<any[]>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => {
      const sessions: Record<string, unknown>[] = [];
      for await (const item of this.cache.scanAll({ tag: this.tag, limit: this.scanCount })) {
        const session = (await this.decode(item.value, item.key)) as Record<string, unknown> | null;
        if (session !== null && typeof session === 'object') sessions.push(Object.assign(session, { id: this.storedIdOf(item.key) }));
      }
      return sessions;
    }, callback);
  }

  /** How many live sessions this store has. */
  length(callback?: Callback<number>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => (await this.keys()).length, callback);
  }

  /** Delete every session of this store (only its own keys, which share a tag). */
  clear(callback?: Callback<void>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => {
      await this.cache.invalidate(this.tag);
    }, callback);
  }

  /**
   * The stored ids: `"sha256:" + SHA-256(session id)` for each session (the session ids
   * themselves are never stored), or the session ids with `hashIds: false`.
   */
  ids(callback?: Callback<string[]>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return reply(async () => (await this.keys()).map((key) => this.storedIdOf(key)), callback);
  }

  private async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of this.cache.scanAll({ tag: this.tag, keysOnly: true, limit: this.scanCount })) keys.push(key);
    return keys;
  }

  private isStoredId(sid: unknown): sid is string {
    return this.hashIds && typeof sid === 'string' && sid.startsWith(STORED_ID_PREFIX);
  }

  /** The key of session id `sid`; refuses a stored id, which is never a session id. */
  private keyOf(sid: unknown, method: string): string {
    if (typeof sid !== 'string' || sid === '') throw new TypeError(`LixSessionStore.${method}: the session id must be a non-empty string; got ${describe(sid)}.`);
    if (this.isStoredId(sid)) {
      throw new TypeError(
        `LixSessionStore.${method}: "${sid.slice(0, 16)}…" is a stored id from ids() or all() (a hash of a session id), not a session id: ` +
          'a hash never loads, saves or extends a session. To delete that session, pass it to destroy().',
      );
    }
    return this.prefix + (this.hashIds ? sha256(sid) : sid);
  }

  private keyOfStoredId(storedId: string): string {
    const hash = storedId.slice(STORED_ID_PREFIX.length);
    if (!HASH.test(hash)) {
      throw new TypeError(`LixSessionStore.destroy: "${storedId.slice(0, 16)}…" is not a stored id from ids() or all(): those are "sha256:" and 43 base64url characters.`);
    }
    return this.prefix + hash;
  }

  private storedIdOf(key: string): string {
    const rest = key.slice(this.prefix.length);
    return this.hashIds ? STORED_ID_PREFIX + rest : rest;
  }

  /** Seconds `session` should live: the `ttl` function's answer, else its cookie's, else `ttl`. */
  private ttlOf(session: StoredExpressSession): number {
    if (typeof this.ttl === 'function') {
      const ttl = this.ttl(session);
      if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
        throw new TypeError(`LixSessionStore: the "ttl" function returned ${describe(ttl)}; it must return a number of seconds (0 or less deletes the session).`);
      }
      return ttl;
    }
    const expires = session?.cookie?.expires;
    if (expires) return Math.ceil((new Date(expires).getTime() - Date.now()) / 1000);
    return this.ttl;
  }

  /**
   * JSON sessions are stored as objects (readable in the cache); a custom serializer's as its
   * string. Either way encoded now, as connect-redis does: the cache client may send the value
   * later (batching), and what is stored must be the session as it was when `set` was called.
   */
  private encode(session: StoredExpressSession): unknown {
    if (this.serializer === JSON) return JSON.parse(JSON.stringify(session)) as unknown;
    const text = this.serializer.stringify(session);
    if (typeof text !== 'string') throw new TypeError(`LixSessionStore: serializer.stringify returned ${describe(text)}; it must return a string.`);
    return text;
  }

  private async decode(value: unknown, key: string): Promise<unknown> {
    if (this.serializer === JSON) return value;
    if (typeof value !== 'string') {
      throw new TypeError(
        `LixSessionStore: the session at "${key.slice(0, this.prefix.length + 8)}…" was not stored by this serializer (it is not a string). ` +
          'Sessions stored before a serializer was set cannot be read with it: clear() them, or let them expire.',
      );
    }
    return this.serializer.parse(value);
  }
}

/**
 * connect-redis 9's calling convention: with a callback, the result or error goes to it and the
 * promise resolves to what it returns; without one, the promise resolves or rejects.
 */
async function reply<T>(work: () => Promise<T>, callback: Callback<T> | undefined): Promise<unknown> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    if (callback) return callback(error);
    throw error;
  }
  return callback ? callback(null, result) : result;
}
