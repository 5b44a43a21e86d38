import { parse, serialize, type SerializeOptions } from 'cookie';
import { resolveCookies, type ResolvedCookies, type SessionCookieOptions } from './cookies';
import type { LixSessionOptions } from './handler-options';
import type { SessionData } from './options';
import { saveFailedResponse, type ErrorResponse } from './responses';
import { SessionChanges } from './session-changes';
import { SessionStore, type ClientInfo, type Session, type SessionInfo, type SessionInput } from './session-store';
import { randomToken } from './tokens';

/*
 * The framework-neutral core of every adapter (Express, Fastify, Hono, Next.js): cookies in,
 * a session object, login/logout, and the Set-Cookie lines and writes to make before the
 * response goes out. It only sees a Cookie header and the client's address, so it runs on
 * Node's IncomingMessage and on web-standard Request alike.
 */

/** Options of `login(user, options)`. */
export interface LoginOptions {
  /** Also issue a remember-me token (a long-lived, rotating cookie). Needs the adapter's `rememberMe` option. */
  rememberMe?: boolean;
  /** The device, for the session list. Default: a random id and a name from the User-Agent. */
  device?: { id?: string; name?: string };
}

/** A guest's data (before login): the session's fields, all optional, and the guest's CSRF token. */
export type GuestSession<D extends object = SessionData> = Partial<Omit<D, keyof SessionInfo>> & { readonly csrfToken: string };

/** A cookie to set (or clear) on the response. */
export interface PendingCookie {
  name: string;
  value: string;
  options: SerializeOptions;
  /** The whole Set-Cookie header value. */
  line: string;
}

/**
 * An adapter's options, checked once: `begin()` starts each request.
 *
 * ```ts
 * const handler = createSessionHandler({ store: sessions, cookie: { secure: false } });
 * const session = handler.begin(request.headers.get('cookie'), { ip, userAgent });
 * await session.load();
 * ```
 */
export class SessionHandler<D extends object = SessionData> {
  readonly store: SessionStore<D>;
  readonly cookies: ResolvedCookies;
  /** @internal */ readonly loadUser: ((userId: string) => unknown) | undefined;
  /** @internal Fields a guest keeps at login; undefined when guests are off. */
  readonly guestKeep: readonly string[] | undefined;
  /** @internal */ readonly onSaveError: (error: unknown, request: unknown) => void;
  /** @internal */ readonly onLoadError: ((error: unknown, request: unknown) => void) | undefined;

  constructor(options: LixSessionOptions<D>) {
    if (typeof options !== 'object' || options === null || !(options.store instanceof SessionStore)) {
      throw new TypeError('lixSession({ store }) needs a SessionStore: lixSession({ store: new SessionStore() }).');
    }
    this.store = options.store;
    const { absoluteTimeout, ttl, rememberTtl } = this.store.options;
    this.cookies = resolveCookies(options.cookie as SessionCookieOptions, absoluteTimeout || ttl, rememberTtl);
    this.loadUser = options.rememberMe?.loadUser;
    if (options.rememberMe !== undefined && typeof this.loadUser !== 'function') {
      throw new TypeError('lixSession: rememberMe needs a loadUser(userId) function that returns the session data for a remembered user.');
    }
    this.guestKeep = resolveGuest(options.guest);
    if (options.onSaveError !== undefined && typeof options.onSaveError !== 'function') throw new TypeError('lixSession: onSaveError must be a function (error, request) => void.');
    this.onSaveError = options.onSaveError ?? ((error) => console.error('lix-cache-session: a session change was not saved:', error));
    if (options.onLoadError !== undefined && typeof options.onLoadError !== 'function') throw new TypeError('lixSession: onLoadError must be a function (error, request) => void.');
    this.onLoadError = options.onLoadError;
  }

  /** Start one request from its Cookie header and client. Never throws on bad cookies. */
  begin(cookieHeader: string | null | undefined, client: ClientInfo, request?: unknown): RequestSession<D> {
    return new RequestSession(this, cookieHeader ? parse(cookieHeader) : undefined, client, request);
  }
}

/** `new SessionHandler(options)`: the options checked once, for an adapter. */
export function createSessionHandler<D extends object = SessionData>(options: LixSessionOptions<D>): SessionHandler<D> {
  return new SessionHandler(options);
}

function resolveGuest(guest: LixSessionOptions['guest']): readonly string[] | undefined {
  if (guest === undefined || guest === false) return undefined;
  if (guest === true) return [];
  if (typeof guest !== 'object' || guest === null) throw new TypeError(`lixSession: "guest" must be true, false or { keep: ['cart'] }; got ${String(guest)}.`);
  const keep = guest.keep ?? [];
  if (!Array.isArray(keep) || !keep.every((field) => typeof field === 'string' && field !== '')) {
    throw new TypeError("lixSession: guest.keep must be an array of field names carried into the session at login, such as ['cart'].");
  }
  return Object.freeze([...keep]);
}

interface GuestState {
  /** undefined until the guest session is written. */
  id: string | undefined;
  changes: SessionChanges<Record<string, unknown>>;
}

/** One request's session: what an adapter exposes to routes, and writes back before responding. */
export class RequestSession<D extends object = SessionData> {
  /** The signed-in session (changes to its fields are recorded and written by `save()`), or undefined. */
  session: Session<D> | undefined = undefined;
  /** The session id (the cookie value). Never log or send it elsewhere. */
  id: string | undefined = undefined;
  private changes: SessionChanges<Session<D>> | undefined = undefined;
  private guestState: GuestState | undefined = undefined;
  private rememberCookie: string | undefined;
  private pending: Map<string, PendingCookie> | undefined = undefined;

  /** @internal Use `SessionHandler.begin()`. */
  constructor(
    private readonly handler: SessionHandler<D>,
    private readonly values: Record<string, string | undefined> | undefined,
    readonly client: ClientInfo,
    private readonly request: unknown,
  ) {
    this.rememberCookie = values?.[handler.cookies.rememberName];
  }

  /**
   * Read the session cookie; without a session, sign a remembered user in again, else start
   * the guest (with guests on). Rejects only with cache errors (`isCacheUnavailable`: answer 503).
   */
  async load(): Promise<void> {
    const { store, cookies, loadUser } = this.handler;
    const id = this.values?.[cookies.name];
    if (id !== undefined) {
      const session = await store.get(id, this.client);
      if (session) this.attach(id, session);
      else this.clear(cookies.name);
    }
    if (!this.id && this.rememberCookie !== undefined && loadUser) await this.resume(this.rememberCookie, loadUser);
    if (!this.id && this.handler.guestKeep) await this.loadGuest();
  }

  /** With guests on and nobody signed in: the guest's data, stored once a field is written. */
  get guest(): GuestSession<D> | undefined {
    return this.guestState?.changes.proxy as GuestSession<D> | undefined;
  }

  /** The CSRF token unsafe requests must carry: the session's, or a saved guest's; undefined when there is nothing to forge. */
  get csrfToken(): string | undefined {
    if (this.session) return this.session.csrfToken;
    const guest = this.guestState;
    return guest?.id ? (guest.changes.value.csrfToken as string) : undefined;
  }

  /**
   * Sign `user` in: ends the current session and guest session, if any, and creates one under
   * a NEW id (no session fixation) holding the guest's `keep` fields; sets the cookie.
   */
  async login(user: SessionInput<D> & { userId: string }, options: LoginOptions = {}): Promise<Session<D>> {
    const { store, cookies, loadUser } = this.handler;
    if (typeof user !== 'object' || user === null || typeof user.userId !== 'string' || user.userId === '') {
      throw new TypeError('login(user) takes the session data with a non-empty string userId, e.g. { userId: user.id, username: user.username }.');
    }
    if (typeof options !== 'object' || options === null) throw new TypeError('login(user, options): options must be an object such as { rememberMe: true }.');
    if (options.rememberMe && !loadUser) {
      throw new TypeError('login(user, { rememberMe: true }) needs the session middleware\'s rememberMe: { loadUser } option to sign remembered users in again.');
    }
    const { userId, ...data } = user;
    const previous = this.id;
    const previousRemember = this.rememberCookie;
    const guestId = this.guestState?.id;
    const kept = this.keptGuestFields();
    // A new id on every login (no fixation): the old session, its remember-me token and the guest session end.
    const [{ id, session }] = await Promise.all([
      store.open(userId, { ...kept, ...data } as SessionInput<D>, { ...this.client, device: options.device }),
      previous ? store.delete(previous) : undefined,
      previousRemember ? store.revokeRememberToken(previousRemember) : undefined,
      guestId ? store.deleteGuest(guestId) : undefined,
    ]);
    this.set(cookies.name, id, cookies.session);
    if (guestId) this.clear(cookies.guestName);
    this.guestState = undefined;
    this.rememberCookie = undefined;
    if (options.rememberMe) {
      this.rememberCookie = await store.issueRememberToken(userId, id);
      this.set(cookies.rememberName, this.rememberCookie, cookies.remember);
    } else if (previousRemember !== undefined) {
      this.clear(cookies.rememberName);
    }
    this.attach(id, session);
    return this.session!;
  }

  /** End this session (and its remember-me token) and clear the cookies. */
  async logout(): Promise<void> {
    const { store, cookies } = this.handler;
    await Promise.all([this.id ? store.delete(this.id) : undefined, this.rememberCookie ? store.revokeRememberToken(this.rememberCookie) : undefined]);
    if (this.id) this.clear(cookies.name);
    this.signedOut();
  }

  /** End every session and remember-me token of the signed-in user, this one too. Resolves how many sessions ended. */
  async logoutAll(): Promise<number> {
    if (!this.session || !this.id) return 0;
    const ended = await this.handler.store.revokeAll(this.session.userId);
    this.clear(this.handler.cookies.name);
    this.signedOut();
    return ended;
  }

  /**
   * Write this request's changes: the session's changed fields, and the guest session (created
   * on its first write). Returns undefined when there was nothing to write, else a promise of
   * undefined (saved) or the answer to send instead (503 when the cache is down, else 500).
   */
  save(): Promise<ErrorResponse | undefined> | undefined {
    const sessionPatch = this.id ? this.changes?.patch() : undefined;
    const guestPatch = this.guestState?.changes.patch();
    if (!sessionPatch && !guestPatch) return undefined;
    return this.write(sessionPatch, guestPatch);
  }

  /** Cookies set or cleared since the last call (one per name, the latest), to put on the response. */
  takeCookies(): PendingCookie[] {
    const pending = this.pending;
    if (!pending) return [];
    this.pending = undefined;
    return [...pending.values()];
  }

  // ---- internals -----------------------------------------------------------------------

  private async write(sessionPatch: Record<string, unknown> | undefined, guestPatch: Record<string, unknown> | undefined): Promise<ErrorResponse | undefined> {
    const { store, cookies } = this.handler;
    try {
      if (sessionPatch) {
        const changes = this.changes!;
        changes.reset();
        // Revoked while this request ran: the merge wrote nothing, and the cookie goes.
        if (!(await store.update(this.id!, sessionPatch as Partial<D>, changes.value))) {
          this.clear(cookies.name);
          this.signedOut();
        }
      }
      const guest = this.guestState;
      if (guestPatch && guest) {
        guest.changes.reset();
        if (!guest.id || !(await store.updateGuest(guest.id, guestPatch))) {
          const { csrfToken, ...data } = guest.changes.value;
          guest.id = await store.createGuest(data, csrfToken as string);
          this.set(cookies.guestName, guest.id, cookies.session);
        }
      }
      return undefined;
    } catch (error) {
      this.handler.onSaveError(error, this.request);
      return saveFailedResponse(error);
    }
  }

  private attach(id: string, session: Session<D>): void {
    this.id = id;
    this.changes = new SessionChanges(session);
    this.session = this.changes.proxy;
  }

  /** After logout: no session, no remember-me cookie; a fresh, unsaved guest when guests are on. */
  private signedOut(): void {
    if (this.rememberCookie !== undefined) this.clear(this.handler.cookies.rememberName);
    this.rememberCookie = undefined;
    this.id = undefined;
    this.changes = undefined;
    this.session = undefined;
    if (this.handler.guestKeep) this.startGuest(undefined, { csrfToken: randomToken() });
  }

  private async loadGuest(): Promise<void> {
    const { store, cookies } = this.handler;
    const id = this.values?.[cookies.guestName];
    if (id !== undefined) {
      const guest = await store.getGuest(id);
      if (guest) return this.startGuest(id, { ...guest.data, csrfToken: guest.csrfToken });
      this.clear(cookies.guestName);
    }
    this.startGuest(undefined, { csrfToken: randomToken() });
  }

  private startGuest(id: string | undefined, data: Record<string, unknown>): void {
    this.guestState = { id, changes: new SessionChanges(data) };
  }

  private keptGuestFields(): Record<string, unknown> {
    const kept: Record<string, unknown> = {};
    const data = this.guestState?.changes.value;
    if (!data) return kept;
    for (const field of this.handler.guestKeep!) if (data[field] !== undefined && data[field] !== null) kept[field] = data[field];
    return kept;
  }

  /** A request with a remember-me cookie and no session: rotate the token and sign the user in again. */
  private async resume(token: string, loadUser: (userId: string) => unknown): Promise<void> {
    const { store, cookies } = this.handler;
    const result = await store.useRememberToken(token);
    if (result.status !== 'valid') {
      this.clear(cookies.rememberName);
      this.rememberCookie = undefined;
      return;
    }
    const current = result.token ?? token;
    const user = (await loadUser(result.userId)) as (SessionInput<D> & { userId?: string }) | null | undefined;
    if (!user) {
      await store.revokeRememberToken(current);
      this.clear(cookies.rememberName);
      this.rememberCookie = undefined;
      return;
    }
    const { userId: _sameUser, ...data } = user;
    const { id, session } = await store.open(result.userId, data as SessionInput<D>, { ...this.client, rememberToken: current });
    this.set(cookies.name, id, cookies.session);
    if (result.token) this.set(cookies.rememberName, result.token, cookies.remember);
    this.rememberCookie = current;
    this.attach(id, session);
  }

  private set(name: string, value: string, options: SerializeOptions): void {
    (this.pending ??= new Map()).set(name, { name, value, options, line: serialize(name, value, options) });
  }

  private clear(name: string): void {
    this.set(name, '', this.handler.cookies.clear);
  }
}
