/**
 * lix-cache-session/express-session: `LixSessionStore`, an express-session store on Lix Cache
 * (ids hashed before they reach the cache).
 * @module lix-cache-session/express-session
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { isMissingPackage, missingPeer } from 'lix-cache-core';
import { LixCache } from 'lix-cache-sdk';
import { sha256 } from './tokens';

/**
 * The part of express-session's `Store` class this store inherits. Loaded with require,
 * not imported, so that this package's own `req.session` typing and express-session's
 * never meet in one program (they declare the same property differently).
 */
interface ExpressSessionStore extends EventEmitter {
  // express-session's own signatures use its Request type; `any` keeps them assignable.
  regenerate(req: any, callback: (err?: any) => any): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  load(sid: string, callback: (err: any, session?: any) => any): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  createSession(req: any, session: any): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const { Store } = requireExpressSession();

/** express-session is an optional peer dependency: only this entry needs it, and it says so when it is missing. */
function requireExpressSession(): { Store: new () => ExpressSessionStore } {
  try {
    return createRequire(import.meta.url)('express-session') as { Store: new () => ExpressSessionStore };
  } catch (error) {
    throw isMissingPackage(error, 'express-session') ? missingPeer('lix-cache-session/express-session', 'express-session', error) : error;
  }
}

/** What this store reads from an express-session session: its cookie (after JSON, `expires` is a string). */
export interface StoredExpressSession {
  cookie: { expires?: Date | string | null; maxAge?: number | null; originalMaxAge?: number | null };
}

type Callback<T = void> = (error: unknown, result?: T) => void;
/**
 * Callbacks that hand sessions back take `any`, as connect-redis's do: express-session's
 * `SessionData` is augmented by each app, so no fixed type here could be assigned to it.
 */
type SessionCallback<T> = (error: any, result?: T) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Options of `new LixSessionStore(options)`. */
export interface LixSessionStoreOptions {
  /** A `LixCache` client or a URL (`http://…`, `memory://…`, `redis://…`). Default: `new LixCache()` (`LIX_CACHE_URL`). */
  cache?: LixCache | string;
  /** Key prefix (default `'sess:'`, like connect-redis). Keys are `prefix + sha256(sid)`. */
  prefix?: string;
  /** Seconds a session lives when its cookie has no expiry (default 86400, like connect-redis). */
  ttl?: number;
  /** Keep the TTL on `touch` instead of resetting it (default false, like connect-redis). */
  disableTouch?: boolean;
}

/**
 * An express-session store on Lix Cache: a drop-in replacement for connect-redis.
 *
 * ```ts
 * import session from 'express-session';
 * import { LixSessionStore } from 'lix-cache-session/express-session';
 * app.use(session({ store: new LixSessionStore(), secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
 * ```
 *
 * Each session lives as long as its cookie (`cookie.maxAge` / `expires`), else `ttl`.
 * Session ids are stored hashed (SHA-256), so `ids()` lists those hashes and `all()`
 * resolves an array of sessions: nobody who can read the cache learns a session id.
 */
export class LixSessionStore extends Store {
  readonly cache: LixCache;
  private readonly prefix: string;
  private readonly tag: string;
  private readonly ttl: number;
  private readonly disableTouch: boolean;

  constructor(options: LixSessionStoreOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('LixSessionStore: options must be an object such as { prefix: "sess:" }.');
    const { cache, prefix = 'sess:', ttl = 86_400, disableTouch = false } = options;
    if (typeof prefix !== 'string' || prefix === '') throw new TypeError(`LixSessionStore: "prefix" must be a non-empty string; got ${String(prefix)}.`);
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) throw new TypeError(`LixSessionStore: "ttl" must be a positive number of seconds; got ${String(ttl)}.`);
    if (cache !== undefined && typeof cache !== 'string' && !(cache instanceof LixCache)) {
      throw new TypeError('LixSessionStore: "cache" must be a LixCache client or a URL string.');
    }
    this.cache = cache instanceof LixCache ? cache : new LixCache(cache === undefined ? {} : { url: cache });
    this.prefix = prefix;
    this.tag = `${prefix}all`;
    this.ttl = ttl;
    this.disableTouch = disableTouch;
  }

  private keyOf(sid: string): string {
    return this.prefix + sha256(String(sid));
  }

  /** Seconds the session has left by its cookie, else the default `ttl`. */
  private ttlOf(session: StoredExpressSession): number {
    const expires = session?.cookie?.expires;
    if (expires) return Math.ceil((new Date(expires).getTime() - Date.now()) / 1000);
    return this.ttl;
  }

  get(sid: string, callback: SessionCallback<any>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    settle(this.cache.get<StoredExpressSession>(this.keyOf(sid)), callback);
  }

  set(sid: string, session: StoredExpressSession, callback?: Callback): void {
    const ttl = this.ttlOf(session);
    const key = this.keyOf(sid);
    const done = ttl > 0 ? this.cache.set(key, session, { ttl, tags: [this.tag] }) : this.cache.delete(key);
    settle(done.then(() => undefined), callback);
  }

  destroy(sid: string, callback?: Callback): void {
    settle(this.cache.delete(this.keyOf(sid)).then(() => undefined), callback);
  }

  touch(sid: string, session: StoredExpressSession, callback?: Callback): void {
    if (this.disableTouch) return void callback?.(null);
    const ttl = this.ttlOf(session);
    settle(ttl > 0 ? this.cache.expire(this.keyOf(sid), ttl).then(() => undefined) : this.cache.delete(this.keyOf(sid)).then(() => undefined), callback);
  }

  /** Every live session, as an array (their ids are not stored). */
  all(callback: SessionCallback<any[]>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    settle(
      (async () => {
        const sessions: StoredExpressSession[] = [];
        for await (const item of this.cache.scanAll<StoredExpressSession>({ tag: this.tag })) sessions.push(item.value);
        return sessions;
      })(),
      callback,
    );
  }

  /** How many live sessions there are. */
  length(callback: Callback<number>): void {
    settle(this.idList().then((ids) => ids.length), callback);
  }

  /** Delete every session of this store (only its own keys). */
  clear(callback?: Callback): void {
    settle(this.cache.invalidate(this.tag).then(() => undefined), callback);
  }

  /** The stored ids: SHA-256 hashes of the session ids (the ids themselves are never stored). */
  ids(callback: Callback<string[]>): void {
    settle(this.idList(), callback);
  }

  private async idList(): Promise<string[]> {
    const ids: string[] = [];
    for await (const key of this.cache.scanAll({ tag: this.tag, keysOnly: true })) ids.push(key.slice(this.prefix.length));
    return ids;
  }
}

/** Node-style callbacks over a promise (express-session's Store API). */
function settle<T>(promise: Promise<T>, callback: Callback<T> | undefined): void {
  promise.then(
    (value) => callback?.(null, value),
    (error: unknown) => callback?.(error),
  );
}
