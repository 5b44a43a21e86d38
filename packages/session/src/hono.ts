/**
 * lix-cache-session/hono: sessions for [Hono](https://hono.dev) apps. The middleware
 * `lixSession()` puts the signed-in session on `c.get('session')` (or the guest's data on
 * `c.get('guest')`), the helpers `login(c, user)`, `logout(c)` and `logoutAll(c)` sign
 * users in and out, and `csrfProtection()` checks the session's CSRF token.
 *
 * Web-standard only (Request, Response, Web Crypto; no `node:` import of its own), so it runs
 * on Node (through `@hono/node-server`), Deno, Bun, and Workers alike.
 * @module lix-cache-session/hono
 */
import type { Context, Env, MiddlewareHandler } from 'hono';
import { clientAddress, compileTrust, type TrustProxy } from './client-address';
import { bodyField, createCsrfCheck, type CsrfOptions } from './csrf';
import type { LixSessionOptions } from './handler-options';
import type { SessionData } from './options';
import { isCacheUnavailable, unavailableResponse, type ErrorResponse } from './responses';
import { createSessionHandler, type GuestSession, type LoginOptions, type RequestSession } from './session-handler';
import type { Session, SessionInput } from './session-store';

export { isCacheUnavailable, UNAVAILABLE_BODY } from './responses';
export type { SessionCookieOptions } from './cookies';
export type { CsrfOptions } from './csrf';
export type { TrustProxy } from './client-address';
export type { GuestOptions, LixSessionOptions } from './handler-options';
export type { GuestSession, LoginOptions } from './session-handler';

/** Options of the Hono `lixSession(options)`: the shared session options and how to find the client's address. */
export interface HonoSessionOptions<D extends object = SessionData, N extends string = string> extends LixSessionOptions<D, N> {
  /**
   * The client's IP address, for IP binding (`SessionStore`'s `binding.ip`) and the device
   * list. Default: none (sessions then record no address, so do not turn IP binding on
   * without this). Hono has no portable way to read it: on Node use `getConnInfo` from
   * `@hono/node-server/conninfo`, behind a proxy you trust its header, on Workers
   * `cf-connecting-ip`:
   *
   * ```ts
   * import { getConnInfo } from '@hono/node-server/conninfo';
   * lixSession({ store, clientIp: (c) => getConnInfo(c).remote.address });
   * ```
   * Behind proxies, return the peer's address here and set `trustProxy`, rather than
   * reading `x-forwarded-for` yourself: clients can send any value in it.
   */
  clientIp?: (c: Context) => string | undefined;
  /**
   * Which proxies to trust, as Express's `trust proxy` setting: `true`, a hop count, addresses
   * or subnets (`'loopback'`, `'10.0.0.0/8'`), or a function. The client's address is then
   * the nearest `X-Forwarded-For` entry not added by a trusted proxy, starting from the
   * peer that `clientIp` returns (so it needs `clientIp`). Default: none trusted.
   */
  trustProxy?: TrustProxy;
  /** Called with errors that kept a session change from being saved, and the request's context (default: `console.error`). */
  onSaveError?: (error: unknown, c: Context) => void;
  /** Called with the error when the cache could not be reached to load the session, before the 503 (default: none). */
  onLoadError?: (error: unknown, c: Context) => void;
}

/** What `lixSession()` puts on the context (`c.get(...)`, `c.var...`). */
export interface LixSessionVariables<D extends object = SessionData> {
  /**
   * The signed-in user's session, or undefined. Change its fields freely: only the changed
   * ones are written back, before the response goes out.
   */
  session: Session<D> | undefined;
  /** The session id (the cookie value), or undefined. Never log it or send it elsewhere. */
  sessionId: string | undefined;
  /**
   * With the `guest` option on and nobody signed in: the visitor's data (a cart, a theme)
   * and its `csrfToken`. The guest session is written (and its cookie set) on its first change only.
   */
  guest: GuestSession<D> | undefined;
}

/**
 * The Hono environment `lixSession()` provides, for `new Hono<LixSessionEnv<Data>>()`
 * (combine it with your own: `new Hono<{ Bindings: B } & LixSessionEnv<Data>>()`).
 */
export type LixSessionEnv<D extends object = SessionData> = { Variables: LixSessionVariables<D> };

/** The session data type of a Hono environment (`SessionData` when it has no `lixSession` variables). */
export type SessionDataOf<E extends Env> = E extends { Variables: { session: Session<infer D> | undefined } } ? D : SessionData;

/** Each request's session, kept off the context's variables (reached through the helpers). */
const requests = new WeakMap<Context, RequestSession<object>>();

function requestOf(c: Context, helper: string): RequestSession<object> {
  const request = requests.get(c);
  if (!request) throw new Error(`${helper} needs the lixSession() middleware in front of this route: app.use(lixSession({ store })).`);
  return request;
}

/** Copy the request's session state to the context variables (after load, login, logout). */
function expose(c: Context, request: RequestSession<object>): void {
  c.set('session', request.session);
  c.set('sessionId', request.id);
  c.set('guest', request.guest);
}

function json(error: ErrorResponse): Response {
  return new Response(JSON.stringify(error.body), {
    status: error.status,
    headers: { ...error.headers, 'Content-Type': 'application/json; charset=UTF-8' },
  });
}

/** Send `error` instead of the response the route made (none of its headers carried over). */
function replaceResponse(c: Context, error: ErrorResponse): void {
  c.res = undefined;
  c.res = json(error);
}

/**
 * Hono middleware: sessions from `store`, in a secure cookie (`__Host-lix.sid`: HttpOnly,
 * Secure, SameSite=Lax).
 *
 * It reads the session cookie and sets `c.get('session')` and `c.get('sessionId')` (and
 * `c.get('guest')` with guest sessions on); clears a cookie whose session is gone; signs
 * remembered users in again. After the route, the changed session fields are written (a
 * failed write answers the error instead of the route's response) and the cookies set.
 * When the cache is unreachable, a request that carries a session cookie gets a 503 JSON
 * answer with `Retry-After` (never a response as a signed-out user), and so does a route
 * that throws a cache error (`login(c)`, `store.list()`, ...) while Hono's error handler
 * answers 500.
 *
 * Options are checked once, here: a bad one throws a `TypeError` that says how to fix it.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { SessionStore } from 'lix-cache-session';
 * import { csrfProtection, lixSession, login, logout, type LixSessionEnv } from 'lix-cache-session/hono';
 *
 * type User = { userId: string; username: string };
 * const store = new SessionStore<User>({ cache: process.env.LIX_CACHE_URL });
 * const app = new Hono<LixSessionEnv<User>>();
 * app.use(lixSession({ store, cookie: { secure: process.env.NODE_ENV === 'production' } }));
 * app.use(csrfProtection());
 *
 * app.post('/login', async (c) => {
 *   const { username } = await c.req.json();
 *   const session = await login(c, { userId: 'user-1', username });
 *   return c.json({ csrfToken: session.csrfToken });
 * });
 * app.get('/profile', (c) => {
 *   const session = c.get('session');
 *   return session ? c.json({ username: session.username }) : c.json({ error: 'Not authenticated' }, 401);
 * });
 * app.post('/logout', async (c) => {
 *   await logout(c);
 *   return c.json({ message: 'Logout successful' });
 * });
 * ```
 */
export function lixSession<D extends object = SessionData, N extends string = string>(options: HonoSessionOptions<D, N>): MiddlewareHandler<LixSessionEnv<D>> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('lixSession(options) needs an options object with a SessionStore: lixSession({ store: new SessionStore() }).');
  }
  const { clientIp, trustProxy, ...shared } = options;
  if (clientIp !== undefined && typeof clientIp !== 'function') {
    throw new TypeError(`lixSession: clientIp must be a function (c) => string | undefined, such as (c) => getConnInfo(c).remote.address; got ${typeof clientIp}.`);
  }
  const trust = trustProxy === undefined ? undefined : compileTrust(trustProxy);
  if (trust && !clientIp) {
    throw new TypeError('lixSession: trustProxy needs clientIp, which returns the address of the peer (your nearest proxy): clientIp: (c) => getConnInfo(c).remote.address.');
  }
  const handler = createSessionHandler(shared as LixSessionOptions<object>);

  return async function lixSessionMiddleware(c, next) {
    const ip = clientIp && clientAddress(clientIp(c as Context), c.req.header('x-forwarded-for'), trust);
    const request = handler.begin(c.req.header('cookie'), { ip, userAgent: c.req.header('user-agent') }, c);
    try {
      await request.load();
    } catch (error) {
      if (!isCacheUnavailable(error)) throw error;
      handler.onLoadError?.(error, c);
      return json(unavailableResponse());
    }
    requests.set(c as Context, request);
    expose(c as Context, request);

    await next();

    // Hono's error handler caught a cache error from the route (its default answers 500).
    if (c.error && isCacheUnavailable(c.error) && c.res.status === 500) replaceResponse(c as Context, unavailableResponse());
    const failure = await request.save();
    if (failure) replaceResponse(c as Context, failure);
    for (const cookie of request.takeCookies()) c.header('Set-Cookie', cookie.line, { append: true });
  };
}

/**
 * Sign `user` in: ends the current session (and guest session) if any, and creates one
 * under a NEW id (no session fixation), sets the cookie (and the remember-me cookie with
 * `{ rememberMe: true }`), and `c.get('session')`. Fields listed in the `guest` option's
 * `keep` move from the guest session into the new one. Resolves the new session (send
 * its `csrfToken` to the client).
 */
export async function login<E extends Env>(c: Context<E>, user: SessionInput<SessionDataOf<E>> & { userId: string }, options?: LoginOptions): Promise<Session<SessionDataOf<E>>> {
  const request = requestOf(c as Context, 'login(c, user)');
  const session = await request.login(user as SessionInput<object> & { userId: string }, options);
  expose(c as Context, request);
  return session as Session<SessionDataOf<E>>;
}

/** End this session (and its remember-me token) and clear the cookies. */
export async function logout(c: Context): Promise<void> {
  const request = requestOf(c, 'logout(c)');
  await request.logout();
  expose(c, request);
}

/** End every session and remember-me token of the signed-in user, this one too. Resolves how many sessions ended. */
export async function logoutAll(c: Context): Promise<number> {
  const request = requestOf(c, 'logoutAll(c)');
  const ended = await request.logoutAll();
  expose(c, request);
  return ended;
}

/**
 * The body's token field. If something before us read the body, it did so through c.req,
 * whose cache hands the parsed body out again; else a clone is read, so that the route can
 * still read the body in any way (c.req.json(), c.req.raw.text(), a validator).
 */
function honoBodyField(c: Context, field: string): Promise<unknown> {
  return bodyField(c.req.raw, field, c.req.raw.bodyUsed ? (kind) => (kind === 'json' ? c.req.json() : c.req.formData()) : undefined);
}

/**
 * CSRF protection bound to the session (mount it after `lixSession()`). Unsafe requests
 * (POST, PUT, PATCH, DELETE, ...) that carry a session, or a saved guest session, must
 * send its `csrfToken` in the `x-csrf-token` header or a `csrfToken` field of a JSON or
 * form body; it is compared in constant time, and a missing or wrong token gets a 403 JSON
 * answer. Safe methods pass, and so do requests without a session, such as the login itself.
 *
 * The body is read from a copy of the request, only when the header is absent, so the
 * route reads it as usual (`c.req.json()`, `c.req.parseBody()`, a validator, `c.req.raw`).
 * Options (header and field names, safe methods) are checked once: a bad one throws a `TypeError`.
 */
export function csrfProtection(options: CsrfOptions = {}): MiddlewareHandler {
  const csrf = createCsrfCheck(options);
  return async function csrfCheck(c, next) {
    const request = requestOf(c, 'csrfProtection()');
    if (csrf.needsToken(c.req.method) && request.csrfToken !== undefined) {
      const sent = c.req.header(csrf.header) ?? (await honoBodyField(c, csrf.field));
      const refused = csrf.check(request, c.req.method, sent);
      if (refused) return c.json(refused, 403);
    }
    await next();
  };
}
