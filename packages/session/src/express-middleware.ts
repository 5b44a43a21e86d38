import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { createCsrfCheck, type CsrfOptions } from './csrf';
import type { LoginOptions } from './express-types';
import type { LixSessionOptions as SessionOptions } from './handler-options';
import { compileTrust, type TrustProxy } from './client-address';
import { nodeClient, sendError, setCookies } from './node-http';
import type { SessionData } from './options';
import { isCacheUnavailable, unavailableResponse } from './responses';
import { SessionHandler, type RequestSession } from './session-handler';
import type { Session, SessionInput } from './session-store';

/** Options of `lixSession(options)` for Express. */
export interface LixSessionOptions<D extends object = SessionData, N extends string = string> extends Omit<SessionOptions<D, N>, 'onSaveError' | 'onLoadError'> {
  /**
   * Which proxies to trust when reading the client's IP address (for binding and the
   * device list), as Express's `trust proxy`: `true`, a hop count, addresses/subnets
   * (`'loopback'`, `'10.0.0.0/8'`), or a function. Default: Express's own `req.ip`, which
   * follows `app.set('trust proxy', ...)`.
   */
  trustProxy?: TrustProxy;
  /** Called with errors that kept a session change from being saved (default: `console.error`). */
  onSaveError?: (error: unknown, req: Request) => void;
  /** Called with the error when the cache could not be reached to load the session, before the 503 (default: none). */
  onLoadError?: (error: unknown, req: Request) => void;
}

const STATE = Symbol('lix-cache-session');
type WithState = Request & { [STATE]?: RequestSession<object> };

function stateOf(req: Request, method: string): RequestSession<object> {
  const state = (req as WithState)[STATE];
  if (!state) throw new Error(`req.${method}() needs the lixSession() middleware mounted before this route.`);
  return state;
}

/** Put the cookies the session set or cleared since the last call onto the response. */
function sendCookies(res: Response, state: RequestSession<object>): void {
  setCookies(res, state.takeCookies());
}

/** A `req` member read from the request's session state; assigning it makes a plain property, as before. */
function stateMember(name: string, read: (state: RequestSession<object>) => unknown): PropertyDescriptor {
  return {
    configurable: true,
    get(this: WithState) {
      const state = this[STATE];
      return state ? read(state) : undefined;
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
    },
  };
}

const REQUEST_MEMBERS: PropertyDescriptorMap = {
  session: stateMember('session', (state) => state.session),
  sessionId: stateMember('sessionId', (state) => state.id),
  guest: stateMember('guest', (state) => state.guest),
  login: { value: login, writable: true, configurable: true },
  logout: { value: logout, writable: true, configurable: true },
  logoutAll: { value: logoutAll, writable: true, configurable: true },
};
const withMembers = new WeakSet<object>();

/**
 * `req.session`, `req.login()` and the rest live on the request's prototype (Express's
 * `app.request`), defined once: Express swaps each request's prototype, which makes every
 * property added to the request itself cost microseconds, a visible share of a near-cache hit.
 */
function defineMembers(req: Request): void {
  const prototype = Object.getPrototypeOf(req) as object;
  if (withMembers.has(prototype)) return;
  withMembers.add(prototype);
  Object.defineProperties(prototype, REQUEST_MEMBERS);
}

/**
 * Write the request's session changes before the response goes out (as express-session
 * does): `res.end` waits for the write, so the next request sees them.
 */
function saveBeforeEnd(res: Response, state: RequestSession<object>): void {
  const end = res.end;
  res.end = function endAfterSave(this: Response, ...args: unknown[]) {
    const saving = state.save();
    if (!saving) {
      sendCookies(res, state);
      return end.apply(this, args as Parameters<typeof end>);
    }
    saving.then((failure) => {
      sendCookies(res, state);
      if (failure && !res.headersSent) sendError(res, failure, (body) => end.call(res, body, 'utf8'));
      else end.apply(res, args as Parameters<typeof end>);
    }, (error: unknown) => void res.destroy(error as Error));
    return this;
  } as Response['end'];
}

async function login(this: Request, user: SessionInput<object> & { userId: string }, options?: LoginOptions): Promise<Session<object>> {
  const state = stateOf(this, 'login');
  const session = await state.login(user, options);
  sendCookies(this.res!, state);
  return session;
}

async function logout(this: Request): Promise<void> {
  const state = stateOf(this, 'logout');
  await state.logout();
  sendCookies(this.res!, state);
}

async function logoutAll(this: Request): Promise<number> {
  const state = stateOf(this, 'logoutAll');
  const ended = await state.logoutAll();
  sendCookies(this.res!, state);
  return ended;
}

/**
 * Express middleware: sessions from `store`, in a secure cookie.
 *
 * It reads the session cookie and sets `req.session` (typed, see `Register`) and
 * `req.sessionId`; clears a cookie whose session is gone; signs remembered users in
 * again; with `guest`, gives signed-out requests `req.guest`; and adds
 * `req.login(user, { rememberMe, device })`, `req.logout()` and `req.logoutAll()`.
 * Changes to `req.session` / `req.guest` fields are written when the response ends,
 * field by field. When the cache is unreachable, a request that carries a session cookie
 * gets a 503 JSON answer (never a response as a signed-out user).
 *
 * @example
 * ```ts
 * app.use(express.json());
 * app.use(lixSession({ store: sessions, cookie: { secure: process.env.NODE_ENV === 'production' } }));
 * app.use(csrfProtection());
 * ```
 */
export function lixSession<D extends object = SessionData, N extends string = string>(options: LixSessionOptions<D, N>): RequestHandler {
  const handler = new SessionHandler(options as unknown as SessionOptions<object>);
  const trust = options.trustProxy === undefined ? undefined : compileTrust(options.trustProxy);

  return async function lixSessionMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    defineMembers(req);
    const state = handler.begin(req.headers.cookie, nodeClient(req, trust, req.ip), req);
    (req as WithState)[STATE] = state;
    saveBeforeEnd(res, state);
    try {
      await state.load();
    } catch (error) {
      if (!isCacheUnavailable(error)) return next(error);
      handler.onLoadError?.(error, req);
      return sendError(res, unavailableResponse());
    }
    sendCookies(res, state);
    next();
  };
}

/**
 * CSRF protection bound to the session (mount it after `lixSession()` and a body parser).
 * Unsafe requests (POST, PUT, PATCH, DELETE, ...) that carry a session, or a saved guest
 * session, must send its `csrfToken` in the `x-csrf-token` header or a `csrfToken` body
 * field; it is compared in constant time, and a missing or wrong token gets 403. Safe
 * methods pass, and so do requests without a session, such as the login itself.
 */
export function csrfProtection(options: CsrfOptions = {}): RequestHandler {
  const csrf = createCsrfCheck(options);
  return function csrfCheck(req: Request, res: Response, next: NextFunction): void {
    if (!csrf.needsToken(req.method)) return next();
    const state = (req as WithState)[STATE];
    if (!state) return next(new Error('csrfProtection() needs the lixSession() middleware mounted before it.'));
    const fromHeader = req.headers[csrf.header];
    const sent = typeof fromHeader === 'string' ? fromHeader : (req.body as Record<string, unknown> | undefined)?.[csrf.field];
    const failure = csrf.check(state, req.method, sent);
    if (!failure) return next();
    res.status(403).json(failure);
  };
}

/**
 * Express error handler (mount it last): a route that needed the cache while it was
 * unreachable (`req.login`, `store.list`, ...) answers 503 with a clear JSON message
 * instead of a 500. Other errors pass on.
 */
export function sessionErrorHandler(): ErrorRequestHandler {
  return function lixSessionErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
    if (isCacheUnavailable(error) && !res.headersSent) return sendError(res, unavailableResponse());
    next(error);
  };
}
