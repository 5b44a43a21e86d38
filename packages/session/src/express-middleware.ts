import { parse } from 'cookie';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { LixAuthError, LixConnectionError, LixServerError, LixTimeoutError } from 'lix-cache-sdk';
import proxyAddr from 'proxy-addr';
import { resolveCookies, setCookie, type ResolvedCookies, type SessionCookieOptions } from './cookies';
import { SessionValidationError } from './errors';
import type { LoginOptions } from './express-types';
import type { SessionData } from './options';
import { SessionChanges } from './session-changes';
import { SessionStore, type ClientInfo, type Session, type SessionInput } from './session-store';

/** Which proxies to trust for the client address, as Express's `trust proxy` setting takes it. */
export type TrustProxy = boolean | number | string | string[] | ((address: string, hop: number) => boolean);

/** Options of `lixSession(options)`. */
export interface LixSessionOptions<D extends object = SessionData, N extends string = string> {
  /** The `SessionStore` that holds the sessions. Required. */
  store: SessionStore<D>;
  /**
   * The cookies. Secure defaults: HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age from the
   * store's timeouts, and the name `__Host-lix.sid`. For plain-HTTP development and tests
   * set `secure: false` (the name then becomes `lix.sid`).
   */
  cookie?: SessionCookieOptions<N>;
  /**
   * Remember-me: `req.login(user, { rememberMe: true })` also sets a long-lived cookie, and
   * a request without a session but with that cookie signs the user in again: the token is
   * rotated, `loadUser(userId)` supplies the new session's data (return null to refuse).
   * Token lifetime and prefix are the store's `rememberMe` options.
   */
  rememberMe?: { loadUser: (userId: string) => SessionInput<D> | null | undefined | Promise<SessionInput<D> | null | undefined> };
  /**
   * Which proxies to trust when reading the client's IP address (for binding and the
   * device list), as Express's `trust proxy`: `true`, a hop count, addresses/subnets
   * (`'loopback'`, `'10.0.0.0/8'`), or a function. Default: Express's own `req.ip`, which
   * follows `app.set('trust proxy', ...)`.
   */
  trustProxy?: TrustProxy;
  /** Called with errors that kept a session change from being saved (default: `console.error`). */
  onSaveError?: (error: unknown, req: Request) => void;
}

interface Context {
  store: SessionStore<object>;
  cookies: ResolvedCookies;
  loadUser: ((userId: string) => unknown) | undefined;
  onSaveError: (error: unknown, req: Request) => void;
}

/** What the middleware keeps per request, under a symbol on the request. */
interface RequestState {
  context: Context;
  req: Request;
  res: Response;
  client: ClientInfo;
  id: string | undefined;
  changes: SessionChanges<Session<object>> | undefined;
  rememberCookie: string | undefined;
  endWrapped: boolean;
}

const STATE = Symbol('lix-cache-session');
type WithState = Request & { [STATE]?: RequestState };

/** The JSON body of a 503 when the session store cannot be reached. */
export const UNAVAILABLE_BODY = Object.freeze({
  error: 'Session store unavailable',
  message: 'Sessions cannot be checked right now because the session store (Lix Cache) is unreachable. Please try again shortly.',
});

/** Whether `error` means the cache cannot serve (down, timing out, failing, refusing our key). */
export function isCacheUnavailable(error: unknown): boolean {
  return error instanceof LixConnectionError || error instanceof LixTimeoutError || error instanceof LixServerError || error instanceof LixAuthError;
}

function sendUnavailable(res: Response): void {
  res.status(503).set('Retry-After', '5').json(UNAVAILABLE_BODY);
}

/** Express's `trust proxy` values, compiled the way Express does (it does not export its compiler). */
function compileTrust(value: TrustProxy): (address: string, hop: number) => boolean {
  if (typeof value === 'function') return value;
  if (value === true) return () => true;
  if (value === false) return () => false;
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return proxyAddr.compile(typeof value === 'string' ? value.split(',').map((part) => part.trim()) : value);
}

function stateOf(req: Request, method: string): RequestState {
  const state = (req as WithState)[STATE];
  if (!state) throw new Error(`req.${method}() needs the lixSession() middleware mounted before this route.`);
  return state;
}

function attach(state: RequestState, id: string, session: Session<object>): void {
  state.id = id;
  state.changes = new SessionChanges(session);
  state.req.session = state.changes.proxy as unknown as Request['session'];
  state.req.sessionId = id;
  wrapEnd(state);
}

function detach(state: RequestState): void {
  state.id = undefined;
  state.changes = undefined;
  state.req.session = undefined;
  state.req.sessionId = undefined;
}

function clearCookie(state: RequestState, name: string): void {
  setCookie(state.res, name, '', state.context.cookies.clear);
}

/**
 * Write the request's session changes before the response goes out (as express-session
 * does): `res.end` waits for the `merge`, so the next request sees them.
 */
function wrapEnd(state: RequestState): void {
  if (state.endWrapped) return;
  state.endWrapped = true;
  const { res } = state;
  const end = res.end;
  res.end = function endAfterSave(this: Response, ...args: unknown[]) {
    const { changes, id } = state;
    const patch = changes?.patch();
    if (!changes || !patch || !id) return end.apply(this, args as Parameters<typeof end>);
    state.changes = undefined;
    state.context.store.update(id, patch, changes.value).then(
      (saved) => {
        // Revoked while this request ran: the merge wrote nothing, and the cookie goes.
        if (!saved && !res.headersSent) clearCookie(state, state.context.cookies.name);
        end.apply(res, args as Parameters<typeof end>);
      },
      (error: unknown) => {
        state.context.onSaveError(error, state.req);
        if (res.headersSent) return void end.apply(res, args as Parameters<typeof end>);
        const unavailable = isCacheUnavailable(error);
        const body = JSON.stringify(
          unavailable
            ? UNAVAILABLE_BODY
            : { error: 'Session not saved', message: error instanceof SessionValidationError ? 'The session data does not match its schema.' : 'The session could not be saved.' },
        );
        res.statusCode = unavailable ? 503 : 500;
        res.removeHeader('ETag');
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Length', Buffer.byteLength(body));
        end.call(res, body, 'utf8');
      },
    );
    return this;
  } as Response['end'];
}

async function login(this: Request, user: SessionInput<object> & { userId: string }, options: LoginOptions = {}): Promise<Session<object>> {
  const state = stateOf(this, 'login');
  const { store, cookies, loadUser } = state.context;
  if (typeof user !== 'object' || user === null || typeof user.userId !== 'string' || user.userId === '') {
    throw new TypeError('req.login(user) takes the session data with a non-empty string userId, e.g. { userId: user.id, username: user.username }.');
  }
  if (options.rememberMe && !loadUser) {
    throw new TypeError('req.login(user, { rememberMe: true }) needs lixSession({ store, rememberMe: { loadUser } }) to sign remembered users in again.');
  }
  const { userId, ...data } = user;
  const previous = state.id;
  const previousRemember = state.rememberCookie;
  // A new id on every login (no fixation): the old session and its remember-me token end.
  const [{ id, session }] = await Promise.all([
    store.open(userId, data, { ...state.client, device: options.device }),
    previous ? store.delete(previous) : undefined,
    previousRemember ? store.revokeRememberToken(previousRemember) : undefined,
  ]);
  setCookie(state.res, cookies.name, id, cookies.session);
  state.rememberCookie = undefined;
  if (options.rememberMe) {
    state.rememberCookie = await store.issueRememberToken(userId, id);
    setCookie(state.res, cookies.rememberName, state.rememberCookie, cookies.remember);
  } else if (previousRemember !== undefined) {
    clearCookie(state, cookies.rememberName);
  }
  attach(state, id, session);
  return state.req.session as Session<object>;
}

async function logout(this: Request): Promise<void> {
  const state = stateOf(this, 'logout');
  const { store, cookies } = state.context;
  await Promise.all([state.id ? store.delete(state.id) : undefined, state.rememberCookie ? store.revokeRememberToken(state.rememberCookie) : undefined]);
  if (state.id) clearCookie(state, cookies.name);
  if (state.rememberCookie !== undefined) clearCookie(state, cookies.rememberName);
  state.rememberCookie = undefined;
  detach(state);
}

async function logoutAll(this: Request): Promise<number> {
  const state = stateOf(this, 'logoutAll');
  const session = state.req.session;
  if (!session || !state.id) return 0;
  const ended = await state.context.store.revokeAll(session.userId);
  clearCookie(state, state.context.cookies.name);
  if (state.rememberCookie !== undefined) clearCookie(state, state.context.cookies.rememberName);
  state.rememberCookie = undefined;
  detach(state);
  return ended;
}

/** A request with a remember-me cookie and no session: rotate the token and sign the user in again. */
async function resume(state: RequestState, token: string, loadUser: (userId: string) => unknown): Promise<void> {
  const { store, cookies } = state.context;
  const result = await store.useRememberToken(token);
  if (result.status !== 'valid') {
    clearCookie(state, cookies.rememberName);
    state.rememberCookie = undefined;
    return;
  }
  const current = result.token ?? token;
  const user = (await loadUser(result.userId)) as (SessionInput<object> & { userId?: string }) | null | undefined;
  if (!user) {
    await store.revokeRememberToken(current);
    clearCookie(state, cookies.rememberName);
    state.rememberCookie = undefined;
    return;
  }
  const { userId: _sameUser, ...data } = user;
  const { id, session } = await store.open(result.userId, data, { ...state.client, rememberToken: current });
  setCookie(state.res, cookies.name, id, cookies.session);
  if (result.token) setCookie(state.res, cookies.rememberName, result.token, cookies.remember);
  state.rememberCookie = current;
  attach(state, id, session);
}

/**
 * Express middleware: sessions from `store`, in a secure cookie.
 *
 * It reads the session cookie and sets `req.session` (typed, see `Register`) and
 * `req.sessionId`; clears a cookie whose session is gone; signs remembered users in
 * again; and adds `req.login(user, { rememberMe, device })`, `req.logout()` and
 * `req.logoutAll()`. Changes to `req.session` fields are written when the response ends,
 * field by field. When the cache is unreachable, a request that carries a session cookie
 * gets a 503 JSON answer (never a response as a signed-out user).
 *
 * ```ts
 * app.use(express.json());
 * app.use(lixSession({ store: sessions, cookie: { secure: process.env.NODE_ENV === 'production' } }));
 * app.use(csrfProtection());
 * ```
 */
export function lixSession<D extends object = SessionData, N extends string = string>(options: LixSessionOptions<D, N>): RequestHandler {
  if (typeof options !== 'object' || options === null || !(options.store instanceof SessionStore)) {
    throw new TypeError('lixSession({ store }) needs a SessionStore: lixSession({ store: new SessionStore() }).');
  }
  const store = options.store as unknown as SessionStore<object>;
  const { absoluteTimeout, ttl, rememberTtl } = store.options;
  const cookies = resolveCookies(options.cookie as SessionCookieOptions, absoluteTimeout || ttl, rememberTtl);
  const loadUser = options.rememberMe?.loadUser;
  if (options.rememberMe !== undefined && typeof loadUser !== 'function') {
    throw new TypeError('lixSession: rememberMe needs a loadUser(userId) function that returns the session data for a remembered user.');
  }
  const trust = options.trustProxy === undefined ? undefined : compileTrust(options.trustProxy);
  const context: Context = {
    store,
    cookies,
    loadUser,
    onSaveError: options.onSaveError ?? ((error) => console.error('lix-cache-session: a session change was not saved:', error)),
  };

  return async function lixSessionMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    const header = req.headers.cookie;
    const parsed = header ? parse(header) : undefined;
    const userAgent = req.headers['user-agent'];
    const state: RequestState = {
      context,
      req,
      res,
      client: { ip: trust ? proxyAddr(req, trust) : (req.ip ?? req.socket.remoteAddress), userAgent },
      id: undefined,
      changes: undefined,
      rememberCookie: parsed?.[cookies.rememberName],
      endWrapped: false,
    };
    (req as WithState)[STATE] = state;
    req.login = login as unknown as Request['login'];
    req.logout = logout;
    req.logoutAll = logoutAll;

    try {
      const id = parsed?.[cookies.name];
      if (id !== undefined) {
        const session = await store.get(id, state.client);
        if (session) attach(state, id, session);
        else clearCookie(state, cookies.name);
      }
      if (!state.id && state.rememberCookie !== undefined && loadUser) await resume(state, state.rememberCookie, loadUser);
    } catch (error) {
      if (isCacheUnavailable(error)) return sendUnavailable(res);
      return next(error);
    }
    next();
  };
}

/**
 * Express error handler (mount it last): a route that needed the cache while it was
 * unreachable (`req.login`, `store.list`, ...) answers 503 with a clear JSON message
 * instead of a 500. Other errors pass on.
 */
export function sessionErrorHandler(): ErrorRequestHandler {
  return function lixSessionErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
    if (isCacheUnavailable(error) && !res.headersSent) return sendUnavailable(res);
    next(error);
  };
}
