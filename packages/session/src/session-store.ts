import type { LixCache } from 'lix-cache-sdk';
import { sameClient } from './client-ip';
import { SessionValidationError } from './errors';
import { resolveOptions, type ResolvedOptions, type SessionData, type SessionStoreOptions } from './options';
import { validate } from './schema';
import { isToken, randomToken, safeEqual, sha256 } from './tokens';

/** The fields every session has, besides its data. The store manages them; they cannot be updated. */
export interface SessionInfo {
  /** The user the session belongs to. */
  userId: string;
  /** When the session was created (ms since the epoch); the absolute timeout counts from it. */
  createdAt: number;
  /** When the session was last used (ms since the epoch): now, for the session `get` returns. */
  lastAccess: number;
  /** The session's CSRF token: send it back as `x-csrf-token` or a `csrfToken` body field. */
  csrfToken: string;
}

/** A session as `get` returns it: its data and its `SessionInfo`. */
export type Session<D extends object = SessionData> = D & SessionInfo;

/** What `create` takes: the data, where `userId` may repeat the user id and the managed fields are filled in. */
export type SessionInput<D extends object = SessionData> = Omit<D, keyof SessionInfo> & { userId?: string };

/** The client a request comes from, for IP / User-Agent binding and the device list. */
export interface ClientInfo {
  /** The client's IP address (behind a proxy: the forwarded one, see the middleware's `trustProxy`). */
  ip?: string;
  /** The User-Agent header. */
  userAgent?: string;
}

/** Options of `create` / `open`. */
export interface CreateOptions extends ClientInfo {
  /** The device, for `list()`. Default: a random id and a name taken from the User-Agent. */
  device?: { id?: string; name?: string };
  /** A remember-me token this session was resumed from (`useRememberToken`); links the two, see `revoke`. */
  rememberToken?: string;
}

/** One of a user's sessions, as `list` shows it. Holds no session id. */
export interface DeviceSession {
  /**
   * Opaque handle for `revoke(userId, handle)`: derived one-way from the stored key,
   * so it cannot be turned back into a session id or a working cookie.
   */
  handle: string;
  deviceId: string;
  deviceName: string;
  /** The IP address the session was last used from (null when none was given). */
  lastIP: string | null;
  /** ms since the epoch. */
  lastAccess: number;
  /** ms since the epoch. */
  createdAt: number;
  /** Whether this is the session `currentId` names. */
  current: boolean;
}

/** What `metrics()` reports. Counts only: no ids, handles or user ids. */
export interface SessionMetrics {
  /** Live sessions. */
  totalSessions: number;
  /** Sessions used within the store's `activeWindow` (default 5 minutes). */
  activeSessions: number;
  /** Mean age of the live sessions, in ms (0 when there are none). */
  averageSessionLength: number;
  /** Distinct users with a live session. */
  uniqueUsers: number;
}

/** What `useRememberToken` found. */
export type RememberResult =
  /** The token was good: sign `userId` in; `token` is its replacement to send back (null within `reuseGrace`). */
  | { status: 'valid'; userId: string; token: string | null }
  /** Unknown, malformed, expired or revoked: clear the cookie. */
  | { status: 'invalid' }
  /** An already-used token came back: all of `userId`'s sessions and tokens were revoked. */
  | { status: 'stolen'; userId: string };

/** Immutable details kept with each session (never shown to the app as data). */
interface Meta {
  csrf: string;
  deviceId: string;
  deviceName: string;
  /** Address the session is bound to (binding.ip), else null. */
  ip: string | null;
  /** sha256 of the User-Agent it is bound to (binding.userAgent), else null. */
  ua: string | null;
}

/** Reserved fields of a stored session; the app's data sits beside them, so `merge` can update single fields. */
interface StoredFields {
  userId: string;
  createdAt: number;
  lastAccess: number;
  _lix: Meta;
  _lixLastIP: string | null;
}
type Stored = Record<string, unknown> & StoredFields;

/** A guest session's data: any JSON fields but the reserved ones. */
export type GuestData = Record<string, unknown>;

/** A stored guest session. */
type StoredGuest = GuestData & { createdAt: number; _lix: { csrf: string } };

/** A remember-me series: the token currently valid for it is `token` (a hash). */
interface Series {
  userId: string;
  token: string;
  previous: string | null;
  rotatedAt: number;
  /** Key of the session this series last signed in, or null. */
  session: string | null;
}

/** Fields of a stored session the store manages; the app's data cannot use these names. */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set(['userId', 'createdAt', 'lastAccess', 'csrfToken', '_lix', '_lixLastIP']);
/** Reserved fields `create` refuses in data (createdAt and lastAccess are simply set). */
const MANAGED = ['csrfToken', '_lix', '_lixLastIP'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStored(value: unknown): value is Stored {
  return isObject(value) && isObject(value._lix) && typeof value.userId === 'string' && typeof value.createdAt === 'number';
}

function isSeries(value: unknown): value is Series {
  return isObject(value) && typeof value.userId === 'string' && typeof value.token === 'string';
}

function checkUserId(userId: unknown, method: string): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new TypeError(`SessionStore.${method}: userId must be a non-empty string such as "user-123"; got ${String(userId)}.`);
  }
}

function deviceNameOf(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown device';
  return userAgent.length > 120 ? `${userAgent.slice(0, 117)}...` : userAgent;
}

/** Sessions whose last touch one store remembers before it starts over. */
const MAX_TOUCHED = 100_000;

/**
 * Sessions on Lix Cache, secure by default. The seed's API (`create`, `get`, `delete`,
 * `refresh`) plus device lists, revocation, remember-me tokens and metrics.
 *
 * - Ids are 256 random bits (base64url); only their SHA-256 is stored, under `prefix`.
 * - `get` is one cache round trip: it reads the session and slides its TTL in one command.
 *   With a near cache (`new LixCache({ nearCache: true })`) it is none: the session is read
 *   in-process, revocations anywhere reach it within milliseconds, and the TTL slides by one
 *   touch per session per `touchInterval`.
 * - Sessions carry the tag `<prefix>user:<userId>`, so a user's sessions are listed and
 *   revoked through core tags, with no hand-kept list to race or grow.
 *
 * ```ts
 * const sessions = new SessionStore();                 // LIX_CACHE_URL or http://localhost:4000
 * const id = await sessions.create('user-123', { username: 'alice' });
 * const session = await sessions.get(id);              // { username, userId, createdAt, lastAccess, csrfToken } | null
 * ```
 */
export class SessionStore<D extends object = SessionData> {
  /** The checked options with their defaults. */
  readonly options: Readonly<ResolvedOptions<D>>;
  /** Whether reads slide the idle timeout. */
  private readonly sliding: boolean;
  /** `{ touch }` for reads that slide in the same command (no near cache), built once. */
  private readonly readOptions: { touch: number } | undefined;
  /** With a near cache: ms between two touches of one session from this process (0: no near cache). */
  private readonly touchMs: number;
  /**
   * Session key → when this process last touched it. A plain Map emptied when full rather than
   * an LRU: forgetting costs one extra touch per session, and the hot path stays a Map lookup.
   */
  private readonly touched = new Map<string, number>();
  /** The TTL a session key gets when it is written or used. */
  private readonly keyTtl: number;
  /** Most sessions per user: 1 with `exclusive`, else `maxSessionsPerUser`; 0 for no cap. */
  private readonly cap: number;
  /** The last `createdAt` this store gave a session. */
  private lastCreatedAt = 0;

  constructor(options?: SessionStoreOptions<D>) {
    this.options = resolveOptions(options);
    const { idleTimeout, ttl } = this.options;
    this.sliding = idleTimeout > 0;
    this.touchMs = this.options.cache.hasNearCache ? this.options.touchInterval * 1000 : 0;
    this.readOptions = this.sliding && this.touchMs === 0 ? { touch: idleTimeout } : undefined;
    this.keyTtl = idleTimeout || ttl;
    this.cap = this.options.exclusive ? 1 : this.options.maxSessionsPerUser;
  }

  /** The cache client the sessions live in. */
  get cache(): LixCache {
    return this.options.cache;
  }

  // ---- keys ------------------------------------------------------------------

  private keyOf(id: string): string {
    return this.options.prefix + sha256(id);
  }

  private userTag(userId: string): string {
    return this.options.userTagPrefix + userId;
  }

  private rememberTag(userId: string): string {
    return this.options.rememberTagPrefix + userId;
  }

  private seriesKey(seriesHash: string): string {
    return `${this.options.rememberPrefix}s:${seriesHash}`;
  }

  private tokenKey(tokenHash: string): string {
    return `${this.options.rememberPrefix}t:${tokenHash}`;
  }

  /** The public handle of a stored session key (one-way). */
  private handleOf(key: string): string {
    return sha256(`handle:${key}`);
  }

  // ---- the seed's API -----------------------------------------------------------

  /**
   * Create a session for `userId` and resolve its id (the cookie value). `data` is the
   * session's data (validated by `schema`); `options` carries the client and device.
   * With `exclusive`, the user's other sessions end; with `maxSessionsPerUser`, the oldest
   * ones beyond the cap do. Both hold under concurrent logins (see `trim`): a login whose
   * session is not among the newest resolves an id that is already ended, as if a later
   * login had signed it out.
   */
  async create(userId: string, data: SessionInput<D>, options?: CreateOptions): Promise<string> {
    return (await this.open(userId, data, options)).id;
  }

  /** `create`, resolving the new session too (what a login needs, without a second read). */
  async open(userId: string, data: SessionInput<D>, options: CreateOptions = {}): Promise<{ id: string; session: Session<D> }> {
    checkUserId(userId, 'create');
    if (!isObject(data)) throw new TypeError(`SessionStore.create: data must be an object such as { username: 'alice' }; got ${String(data)}.`);
    if (data.userId !== undefined && data.userId !== userId) {
      throw new TypeError(`SessionStore.create: data.userId ("${String(data.userId)}") differs from the userId argument ("${userId}").`);
    }
    for (const field of MANAGED) {
      if (field in data) throw new TypeError(`SessionStore.create: "${field}" is managed by the store; leave it out of the data.`);
    }
    this.checkClient(options, 'create');

    // Strictly increasing within this store, so logins one after another in the same millisecond
    // still have a creation order for `trim` to agree on (the later one is the newer).
    const now = (this.lastCreatedAt = Math.max(Date.now(), this.lastCreatedAt + 1));
    const record: Record<string, unknown> = { ...data, userId, createdAt: now, lastAccess: now };
    const output = this.options.schema ? await validate(this.options.schema, record) : (record as D);

    const meta: Meta = {
      csrf: randomToken(),
      deviceId: options.device?.id ?? randomToken().slice(0, 16),
      deviceName: options.device?.name ?? deviceNameOf(options.userAgent),
      ip: this.options.ipBinding !== 'off' ? (options.ip ?? null) : null,
      ua: this.options.userAgentBinding ? sha256(options.userAgent ?? '') : null,
    };
    const id = randomToken();
    const key = this.keyOf(id);
    const stored: Stored = { ...record, userId, createdAt: now, lastAccess: now, _lix: meta, _lixLastIP: options.ip ?? null };

    const remember = options.rememberToken ? this.parseRememberToken(options.rememberToken) : undefined;
    const { cache } = this.options;
    const write = cache.set(key, stored, { ttl: this.keyTtl, tags: [this.userTag(userId)] });
    if (!this.cap) {
      const writes: Promise<unknown>[] = [write];
      if (remember) writes.push(cache.merge<Series>(remember.seriesKey, { session: key }));
      await Promise.all(writes); // one tick, one request
    } else {
      // Capped: create, then trim (see trim for why this order). The series is linked only
      // once the session exists, so no trim mistakes it for a token of an ended session.
      await write;
      if (remember) await cache.merge<Series>(remember.seriesKey, { session: key });
      await this.trim(userId);
      if (remember) await this.dropSeriesIfEnded(remember.seriesKey, key);
    }

    return { id, session: this.publicSession(output, stored, now) };
  }

  /**
   * The session with this id, or null when it is unknown, expired (idle or absolute),
   * or presented by another client than the one it is bound to. One cache round trip:
   * the read also slides the idle timeout. `lastAccess` is now.
   */
  async get(id: string, client?: ClientInfo): Promise<Session<D> | null> {
    if (!isToken(id)) return null;
    if (this.options.ipBinding !== 'off' || this.options.userAgentBinding) this.checkClient(client, 'get');
    const key = this.keyOf(id);
    const now = Date.now();
    const { cache } = this.options;
    const read = cache.getEntry<Stored>(key, this.readOptions);
    // Without sliding, lastAccess is kept in the value: written in the same tick, one request.
    if (!this.sliding && this.touchMs === 0) void cache.merge(key, { lastAccess: now }).catch(() => {});
    const entry = await read;
    if (!entry || !isStored(entry.value)) return null;
    const stored = entry.value;
    if (this.touchMs > 0) this.touchLater(key, now);

    if (!(await this.stillValid(key, stored, client, now))) return null;
    if (client?.ip && client.ip !== stored._lixLastIP) {
      stored._lixLastIP = client.ip;
      await cache.merge(key, { _lixLastIP: client.ip });
    }
    return this.readSession(key, stored, now);
  }

  /** Delete the session (logout). */
  async delete(id: string): Promise<void> {
    if (!isToken(id)) return;
    await this.options.cache.delete(this.keyOf(id));
  }

  /** Start the session's lifetime again without reading it. Resolves false when it is gone. */
  async refresh(id: string): Promise<boolean> {
    if (!isToken(id)) return false;
    return this.options.cache.expire(this.keyOf(id), this.keyTtl);
  }

  // ---- updates ---------------------------------------------------------------------

  /**
   * Change some fields of a session, atomically and only those (the core `merge`): two
   * requests that change different fields both keep their change, and a deleted session
   * is never brought back. Resolves false when the session is gone. With a `schema`, the
   * session with the patch applied is validated first (`current` saves a read).
   * A field set to `undefined` is stored as null (JSON has no undefined).
   */
  async update(id: string, patch: Partial<D>, current?: Session<D>): Promise<boolean> {
    if (!isObject(patch)) throw new TypeError(`SessionStore.update: patch must be an object of the fields to change; got ${String(patch)}.`);
    const clean: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(patch)) {
      if (RESERVED_FIELDS.has(field)) throw new TypeError(`SessionStore.update: "${field}" is managed by the store and cannot be changed.`);
      clean[field] = value === undefined ? null : value;
    }
    if (!isToken(id)) return false;
    const key = this.keyOf(id);
    if (this.options.schema) {
      let base = current as Record<string, unknown> | undefined;
      if (!base) {
        const entry = await this.options.cache.getEntry<Stored>(key);
        if (!entry || !isStored(entry.value)) return false;
        base = entry.value;
      }
      const { csrfToken: _csrf, _lix, _lixLastIP, ...fields } = base;
      await validate(this.options.schema, { ...fields, ...clean });
    }
    return this.options.cache.merge(key, clean);
  }

  /**
   * Move a session to a new id (and a new CSRF token), keeping its data and `createdAt`;
   * the old id stops working. Call it when privileges change. Resolves the new id, or null
   * when the session is gone.
   */
  async regenerate(id: string): Promise<string | null> {
    if (!isToken(id)) return null;
    const { cache } = this.options;
    const key = this.keyOf(id);
    const entry = await cache.getEntry<Stored>(key);
    if (!entry || !isStored(entry.value)) return null;
    const stored = entry.value;
    if (this.options.absoluteMs && Date.now() - stored.createdAt >= this.options.absoluteMs) {
      await cache.delete(key);
      return null;
    }
    const newId = randomToken();
    const newKey = this.keyOf(newId);
    const ttl = this.sliding ? this.keyTtl : (entry.ttl ?? this.keyTtl);
    await Promise.all([
      cache.set(newKey, { ...stored, _lix: { ...stored._lix, csrf: randomToken() } }, { ttl, tags: [this.userTag(stored.userId)] }),
      cache.delete(key),
      this.relinkSeries(stored.userId, key, newKey),
    ]);
    // The new key is a session write like a login's: trim after it, or a login racing with
    // this regenerate could miss both keys and leave one session over the cap.
    if (this.cap) await this.trim(stored.userId);
    return newId;
  }

  // ---- devices -----------------------------------------------------------------------

  /**
   * The user's live sessions, most recently used first. `currentId` (the caller's own
   * session id) marks its entry `current: true`. Entries carry handles, never ids.
   */
  async list(userId: string, options: { currentId?: string | undefined } = {}): Promise<DeviceSession[]> {
    checkUserId(userId, 'list');
    const currentKey = options.currentId && isToken(options.currentId) ? this.keyOf(options.currentId) : undefined;
    const now = Date.now();
    const sessions: DeviceSession[] = [];
    for await (const item of this.options.cache.scanAll<Stored>({ tag: this.userTag(userId) })) {
      const stored = item.value;
      if (!isStored(stored) || this.expiredAbsolutely(stored, now)) continue;
      sessions.push({
        handle: this.handleOf(item.key),
        deviceId: stored._lix.deviceId,
        deviceName: stored._lix.deviceName,
        lastIP: stored._lixLastIP ?? null,
        lastAccess: this.lastAccessOf(stored, item.ttl, now),
        createdAt: stored.createdAt,
        current: item.key === currentKey,
      });
    }
    return sessions.sort((a, b) => b.lastAccess - a.lastAccess);
  }

  /**
   * End one of the user's sessions by its `list` handle (and the remember-me token that
   * signed it in). Only the user's own sessions can be named: another user's handle
   * resolves false, as does an unknown one.
   */
  async revoke(userId: string, handle: string): Promise<boolean> {
    checkUserId(userId, 'revoke');
    if (!isToken(handle)) return false;
    for await (const key of this.options.cache.scanAll({ tag: this.userTag(userId), keysOnly: true })) {
      if (this.handleOf(key) === handle) return (await this.deleteSessions(userId, [key])) > 0;
    }
    return false;
  }

  /**
   * End all of the user's sessions and remember-me tokens ("log out everywhere").
   * `except` (a session id) keeps that session and the remember-me token linked to it
   * ("log out other devices"). Resolves how many sessions ended.
   */
  async revokeAll(userId: string, options: { except?: string | undefined } = {}): Promise<number> {
    checkUserId(userId, 'revokeAll');
    const keep = options.except && isToken(options.except) ? this.keyOf(options.except) : undefined;
    return this.revokeUser(userId, keep);
  }

  /** Counts over all live sessions under `prefix` (a full scan: for admin pages, not hot paths). */
  async metrics(): Promise<SessionMetrics> {
    const now = Date.now();
    const users = new Set<string>();
    let total = 0;
    let active = 0;
    let ageSum = 0;
    for await (const item of this.options.cache.scanAll<Stored>({ prefix: this.options.prefix })) {
      const stored = item.value;
      if (!isStored(stored) || this.expiredAbsolutely(stored, now)) continue;
      total++;
      ageSum += now - stored.createdAt;
      users.add(stored.userId);
      if (now - this.lastAccessOf(stored, item.ttl, now) < this.options.activeWindowMs) active++;
    }
    return { totalSessions: total, activeSessions: active, averageSessionLength: total ? ageSum / total : 0, uniqueUsers: users.size };
  }

  // ---- guests -------------------------------------------------------------------------

  /**
   * Create a guest session (before login): `data` only, no user, under its own keys
   * (`<prefix>guest:` + sha256(id)), with the session's idle and absolute timeouts. Resolves
   * its id. The data is not checked by `schema` (a guest has no userId): it is checked
   * when `login` carries fields over into a session.
   */
  async createGuest(data: GuestData, csrfToken: string = randomToken()): Promise<string> {
    if (!isObject(data)) throw new TypeError(`SessionStore.createGuest: data must be an object such as { cart: [] }; got ${String(data)}.`);
    const clean = this.guestPatch(data, 'createGuest');
    const id = randomToken();
    const stored: StoredGuest = { ...clean, createdAt: Date.now(), _lix: { csrf: csrfToken } };
    await this.options.cache.set(this.guestKeyOf(id), stored, { ttl: this.keyTtl });
    return id;
  }

  /** The guest session with this id (sliding its idle timeout), or null when unknown or expired. */
  async getGuest(id: string): Promise<{ data: GuestData; csrfToken: string } | null> {
    if (!isToken(id)) return null;
    const key = this.guestKeyOf(id);
    const entry = await this.options.cache.getEntry<StoredGuest>(key, this.readOptions);
    const stored = entry?.value;
    if (!isObject(stored) || !isObject(stored._lix) || typeof stored.createdAt !== 'number') return null;
    if (this.touchMs > 0 && this.sliding) this.touchLater(key, Date.now());
    if (this.options.absoluteMs && Date.now() - stored.createdAt >= this.options.absoluteMs) {
      await this.options.cache.delete(key);
      return null;
    }
    const { _lix, createdAt: _createdAt, ...data } = stored;
    return { data, csrfToken: _lix.csrf };
  }

  /** Change some fields of a guest session (`merge`, as `update`). Resolves false when it is gone. */
  async updateGuest(id: string, patch: GuestData): Promise<boolean> {
    if (!isObject(patch)) throw new TypeError(`SessionStore.updateGuest: patch must be an object of the fields to change; got ${String(patch)}.`);
    const clean = this.guestPatch(patch, 'updateGuest');
    if (!isToken(id)) return false;
    return this.options.cache.merge(this.guestKeyOf(id), clean);
  }

  /** Delete a guest session (at login, its kept fields move into the new session). */
  async deleteGuest(id: string): Promise<void> {
    if (!isToken(id)) return;
    await this.options.cache.delete(this.guestKeyOf(id));
  }

  private guestKeyOf(id: string): string {
    return `${this.options.prefix}guest:${sha256(id)}`;
  }

  private guestPatch(data: GuestData, method: string): GuestData {
    const clean: GuestData = {};
    for (const [field, value] of Object.entries(data)) {
      if (RESERVED_FIELDS.has(field)) throw new TypeError(`SessionStore.${method}: "${field}" is managed by the store; guest data cannot use it.`);
      clean[field] = value === undefined ? null : value;
    }
    return clean;
  }

  // ---- remember-me -----------------------------------------------------------------

  /**
   * Issue a remember-me token for `userId` (the cookie value, `series.token`), valid for
   * `rememberMe.ttl`. Only hashes are stored. `sessionId` links it to that session, so
   * revoking the session revokes the token too.
   */
  async issueRememberToken(userId: string, sessionId?: string): Promise<string> {
    checkUserId(userId, 'issueRememberToken');
    const series = randomToken();
    const token = randomToken();
    const seriesHash = sha256(series);
    const tokenHash = sha256(token);
    const record: Series = {
      userId,
      token: tokenHash,
      previous: null,
      rotatedAt: Date.now(),
      session: sessionId && isToken(sessionId) ? this.keyOf(sessionId) : null,
    };
    const { cache, rememberTtl } = this.options;
    const tags = [this.rememberTag(userId)];
    await Promise.all([
      cache.set(this.seriesKey(seriesHash), record, { ttl: rememberTtl, tags }),
      cache.set(this.tokenKey(tokenHash), { series: seriesHash }, { ttl: rememberTtl, tags }),
    ]);
    if (record.session !== null) await this.dropSeriesIfEnded(this.seriesKey(seriesHash), record.session);
    return `${series}.${token}`;
  }

  /**
   * Use a remember-me token: when valid, it is consumed and replaced (rotation), and the
   * result carries the user id and the new token. A token that was already used means
   * someone copied it: every session and remember-me token of that user is revoked and
   * the result is `stolen`. Consumption is one atomic delete, so of two requests racing
   * with one token only one wins.
   */
  async useRememberToken(value: string): Promise<RememberResult> {
    const parsed = this.parseRememberToken(value);
    if (!parsed) return { status: 'invalid' };
    const { cache, rememberTtl, reuseGraceMs } = this.options;
    const [consumed, series] = await Promise.all([cache.delete(this.tokenKey(parsed.tokenHash)), cache.get<Series>(parsed.seriesKey)]);
    if (!isSeries(series)) {
      return { status: 'invalid' };
    }
    const now = Date.now();
    if (consumed && safeEqual(series.token, parsed.tokenHash)) {
      const token = randomToken();
      const tokenHash = sha256(token);
      const tags = [this.rememberTag(series.userId)];
      const [, rotated] = await Promise.all([
        cache.set(this.tokenKey(tokenHash), { series: parsed.seriesHash }, { ttl: rememberTtl, tags }),
        cache.merge<Series>(parsed.seriesKey, { token: tokenHash, previous: parsed.tokenHash, rotatedAt: now }, { ttl: rememberTtl }),
      ]);
      if (!rotated) {
        // The series was revoked meanwhile: the fresh token must not outlive it.
        await cache.delete(this.tokenKey(tokenHash));
        return { status: 'invalid' };
      }
      return { status: 'valid', userId: series.userId, token: `${parsed.series}.${token}` };
    }
    const racing = safeEqual(series.token, parsed.tokenHash) || (series.previous !== null && safeEqual(series.previous, parsed.tokenHash));
    if (!consumed && racing && reuseGraceMs > 0 && now - series.rotatedAt <= reuseGraceMs) {
      return { status: 'valid', userId: series.userId, token: null };
    }
    await this.revokeUser(series.userId);
    return { status: 'stolen', userId: series.userId };
  }

  /** Revoke one remember-me token (its whole series), e.g. on logout. Resolves whether it existed. */
  async revokeRememberToken(value: string): Promise<boolean> {
    const parsed = this.parseRememberToken(value);
    if (!parsed) return false;
    const { cache } = this.options;
    const [existed] = await Promise.all([cache.delete(parsed.seriesKey), cache.delete(this.tokenKey(parsed.tokenHash))]);
    return existed;
  }

  /** Release the cache client's connections (only needed when the store made it from a URL or default). */
  close(): Promise<void> {
    return this.options.cache.close();
  }

  // ---- internals -----------------------------------------------------------------------

  private parseRememberToken(value: unknown) {
    if (typeof value !== 'string' || value.length !== 87 || value[43] !== '.') return undefined;
    const series = value.slice(0, 43);
    const token = value.slice(44);
    if (!isToken(series) || !isToken(token)) return undefined;
    const seriesHash = sha256(series);
    return { series, seriesHash, seriesKey: this.seriesKey(seriesHash), tokenHash: sha256(token) };
  }

  private checkClient(client: ClientInfo | undefined, method: string): void {
    if (this.options.ipBinding !== 'off' && typeof client?.ip !== 'string') {
      throw new TypeError(`SessionStore.${method}: binding.ip is '${this.options.ipBinding}', so pass the client's address: ${method}(..., { ip: req.ip }).`);
    }
    if (this.options.userAgentBinding && client?.userAgent !== undefined && typeof client.userAgent !== 'string') {
      throw new TypeError(`SessionStore.${method}: userAgent must be the User-Agent header string.`);
    }
  }

  /**
   * A read answered by the near cache slides nothing on the server: touch the key from here,
   * at most once per `touchInterval` per session (the batcher sends touches of one tick
   * together). Sliding: reset the TTL; without sliding: record lastAccess in the value.
   */
  private touchLater(key: string, now: number): void {
    const last = this.touched.get(key);
    if (last !== undefined && now - last < this.touchMs) return;
    if (this.touched.size >= MAX_TOUCHED) this.touched.clear();
    this.touched.set(key, now);
    const { cache } = this.options;
    void (this.sliding ? cache.expire(key, this.keyTtl) : cache.merge(key, { lastAccess: now })).catch(() => {});
  }

  private expiredAbsolutely(stored: Stored, now: number): boolean {
    return this.options.absoluteMs > 0 && now - stored.createdAt >= this.options.absoluteMs;
  }

  /** Absolute timeout and client binding; a session failing either is deleted. */
  private async stillValid(key: string, stored: Stored, client: ClientInfo | undefined, now: number): Promise<boolean> {
    let valid = !this.expiredAbsolutely(stored, now);
    const meta = stored._lix;
    if (valid && meta.ip !== null && this.options.ipBinding !== 'off') valid = sameClient(meta.ip, client!.ip!, this.options.ipBinding);
    if (valid && meta.ua !== null && this.options.userAgentBinding) valid = safeEqual(meta.ua, sha256(client?.userAgent ?? ''));
    if (!valid) await this.options.cache.delete(key);
    return valid;
  }

  /**
   * When a session was last used. With sliding expiration every use resets the key's TTL
   * to the idle timeout, so the remaining TTL tells it without a write per request.
   */
  private lastAccessOf(stored: Stored, ttl: number | null, now: number): number {
    if (!this.sliding || ttl === null) return stored.lastAccess;
    return Math.max(stored.createdAt, Math.round(now - (this.keyTtl - ttl) * 1000));
  }

  /** The stored value as the app sees it: validated by the schema, with its SessionInfo. */
  private async readSession(key: string, stored: Stored, now: number): Promise<Session<D> | null> {
    const { _lix, _lixLastIP, ...fields } = stored;
    fields.lastAccess = now;
    let output: D = fields as unknown as D;
    if (this.options.schema) {
      try {
        output = await validate(this.options.schema, fields);
      } catch (error) {
        if (!(error instanceof SessionValidationError)) throw error;
        await this.options.cache.delete(key); // stored under an older schema: the user signs in again
        return null;
      }
    }
    return this.publicSession(output, stored, now);
  }

  private publicSession(output: D, stored: Stored, now: number): Session<D> {
    const session = output as Session<D>;
    session.userId = stored.userId;
    session.createdAt = stored.createdAt;
    session.lastAccess = now;
    session.csrfToken = stored._lix.csrf;
    return session;
  }

  /**
   * Bring the user to the cap (`exclusive`: 1) by ending all but the newest sessions, ordered
   * by (createdAt, key): every login calls it right after writing its own session.
   *
   * Why this holds under any concurrency, with no lock and no cross-key atomicity (a user's
   * sessions sit in different Cluster slots):
   * - At most `cap` survive. Suppose more than `cap` sessions survive a burst, and take the
   *   login whose session write finished last among them. Its trim scanned after every one
   *   of them was written, none was ever deleted, and a tag scan returns every key present
   *   for its whole duration; so it saw them all and ended all but `cap` of them.
   * - Exactly the newest `cap` survive. The order never changes (createdAt and key are fixed
   *   at creation), so every trim agrees on it: a trim ends a session only when it saw `cap`
   *   newer ones, and no session has that many newer than the newest `cap`. The same argument
   *   as above, applied to any older session and the `cap` newest, shows it ends.
   * Trimming first and then creating (the old way) fails: 20 logins all find room, then all write.
   * A per-user lock (`set` NX with a TTL) would also hold, but a crashed holder blocks the user's
   * logins until it expires. Recency of use is not a usable order: it changes under the trims'
   * feet and is only known to a round trip with sliding expiry, so trims would disagree and
   * end more sessions than they must.
   */
  private async trim(userId: string): Promise<void> {
    const sessions: { key: string; createdAt: number }[] = [];
    for await (const item of this.options.cache.scanAll<Stored>({ tag: this.userTag(userId) })) {
      if (isStored(item.value)) sessions.push({ key: item.key, createdAt: item.value.createdAt });
    }
    sessions.sort((a, b) => b.createdAt - a.createdAt || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    const ended = sessions.slice(this.cap).map((session) => session.key);
    if (ended.length > 0 || this.options.exclusive) {
      await this.deleteSessions(userId, ended, this.options.exclusive ? new Set(sessions.slice(0, this.cap).map((session) => session.key)) : undefined);
    }
  }

  /**
   * A series was just linked to `sessionKey`: if that session has ended meanwhile, end the
   * series too. With `deleteSessions` (session first, then its series) one of the two sees
   * the other, so no token outlives the session it was issued for.
   */
  private async dropSeriesIfEnded(seriesKey: string, sessionKey: string): Promise<void> {
    const { cache } = this.options;
    if (await cache.exists(sessionKey)) return;
    const series = await cache.get<Series>(seriesKey);
    if (!isSeries(series) || series.session !== sessionKey) return;
    await Promise.all([cache.delete(seriesKey), cache.delete(this.tokenKey(series.token))]);
  }

  /** The user's remember-me series, with their keys. */
  private async seriesOf(userId: string): Promise<{ key: string; series: Series }[]> {
    const found: { key: string; series: Series }[] = [];
    const seriesPrefix = this.seriesKey('');
    for await (const item of this.options.cache.scanAll<Series>({ tag: this.rememberTag(userId) })) {
      if (item.key.startsWith(seriesPrefix) && isSeries(item.value)) found.push({ key: item.key, series: item.value });
    }
    return found;
  }

  /**
   * Delete these session keys, then the remember-me series linked to them (in that order, see
   * `dropSeriesIfEnded`). With `onlyLinkedTo`, every series not linked to a live session is
   * ended too (exclusive logins). Resolves how many sessions existed.
   */
  private async deleteSessions(userId: string, keys: string[], onlyLinkedTo?: ReadonlySet<string>): Promise<number> {
    const { cache } = this.options;
    const deleted = await Promise.all(keys.map((key) => cache.delete(key)));
    const doomed = new Set(keys);
    const series = await this.seriesOf(userId);
    const ended = series.filter(({ series }) => series.session !== null && doomed.has(series.session));
    if (onlyLinkedTo) {
      // Linked to a session this trim did not see (a newer login's) or no longer live: ask.
      const others = series.filter(({ series }) => !(series.session !== null && (doomed.has(series.session) || onlyLinkedTo.has(series.session))));
      const live = await Promise.all(others.map(({ series }) => (series.session === null ? false : cache.exists(series.session))));
      ended.push(...others.filter((_, i) => !live[i]));
    }
    await Promise.all(ended.flatMap(({ key, series }) => [cache.delete(key), cache.delete(this.tokenKey(series.token))]));
    return deleted.filter(Boolean).length;
  }

  /**
   * End a user's sessions and remember-me series, except the session `keepKey` and the
   * series linked to it. Without an exception it is two tag invalidations.
   */
  private async revokeUser(userId: string, keepKey?: string): Promise<number> {
    const { cache } = this.options;
    if (!keepKey) {
      const [sessions] = await Promise.all([cache.invalidate(this.userTag(userId)), cache.invalidate(this.rememberTag(userId))]);
      return sessions;
    }
    const [keys, series] = await Promise.all([
      (async () => {
        const found: string[] = [];
        for await (const key of cache.scanAll({ tag: this.userTag(userId), keysOnly: true })) if (key !== keepKey) found.push(key);
        return found;
      })(),
      this.seriesOf(userId),
    ]);
    const doomed = series.filter(({ series }) => series.session !== keepKey);
    const results = await Promise.all([
      ...keys.map((key) => cache.delete(key)),
      ...doomed.flatMap(({ key, series }) => [cache.delete(key), cache.delete(this.tokenKey(series.token))]),
    ]);
    return results.slice(0, keys.length).filter(Boolean).length;
  }

  /** After regenerate: the series that pointed at the old key point at the new one. */
  private async relinkSeries(userId: string, oldKey: string, newKey: string): Promise<void> {
    const linked = (await this.seriesOf(userId)).filter(({ series }) => series.session === oldKey);
    await Promise.all(linked.map(({ key }) => this.options.cache.merge<Series>(key, { session: newKey })));
  }
}
