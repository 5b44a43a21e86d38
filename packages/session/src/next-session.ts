import type { SerializeOptions } from 'cookie';
import { cookies, headers } from 'next/headers';
import { NextResponse } from 'next/server';
import { bodyField, createCsrfCheck, type CsrfCheck, type CsrfOptions } from './csrf';
import type { LixSessionOptions } from './handler-options';
import type { SessionData } from './options';
import { isCacheUnavailable, unavailableResponse, type ErrorResponse } from './responses';
import { SessionHandler, type GuestSession, type LoginOptions, type PendingCookie, type RequestSession } from './session-handler';
import type { ClientInfo, Session, SessionInput } from './session-store';

/*
 * Next.js has no per-request object to hang a session on: Route Handlers, Server Actions and
 * Server Components reach the request through `next/headers` (an AsyncLocalStorage), and
 * only Route Handlers and Server Actions may set cookies. So `get()` opens one
 * RequestSession per request (memoised on that request's headers object), and every
 * cookie the core wants set goes out through `cookies().set` right away.
 */

/** Options of `nextSession(options)`. */
export interface NextSessionOptions<D extends object = SessionData, N extends string = string> extends Omit<LixSessionOptions<D, N>, 'onSaveError' | 'onLoadError'> {
  /**
   * How many proxies in front of the app append the client's address to `X-Forwarded-For`
   * (a load balancer, nginx with `$proxy_add_x_forwarded_for`): the client IP is the entry
   * that many from the right. Next.js does not expose the socket address, and without a
   * proxy the header is whatever the client sent, so the default is no IP at all (no IP
   * in the device list; `binding.ip` then needs this or `clientIp`).
   */
  trustProxy?: number;
  /** Read the client IP yourself, e.g. a platform header: `(headers) => headers.get('x-real-ip') ?? undefined`. Wins over `trustProxy`. */
  clientIp?: (headers: Headers) => string | undefined;
  /** CSRF check of `route()` and `checkCsrf()`: header, body field and safe methods (default x-csrf-token, csrfToken, GET/HEAD/OPTIONS). */
  csrf?: CsrfOptions;
  /** Called with errors that kept a session change from being saved (default: `console.error`). */
  onSaveError?: (error: unknown) => void;
  /** Called with the error when the cache could not be reached to load the session, before the 503 (default: none). */
  onLoadError?: (error: unknown) => void;
}

/** Options of `sessions.guard(request, options)`. */
export interface GuardOptions {
  /**
   * Where to send a visitor without a session, e.g. `'/login'` (a redirect that carries the
   * path asked for as `?next=`). Without it the guard answers 401 JSON, for API paths.
   */
  loginPath?: string;
  /** The query parameter that carries the path asked for (default `'next'`); `false` adds none. */
  returnTo?: string | false;
}

/** Options of `sessions.route(handler, options)`. */
export interface RouteOptions {
  /** Check the CSRF token of unsafe requests that carry a session or saved guest (default `true`). */
  csrf?: boolean;
}

/** What `sessions.read()` gives a Server Component: the session as it is, never written. */
export interface ReadonlyRequestSession<D extends object = SessionData> {
  /** The signed-in session, or undefined. Changes to it are never saved. */
  readonly session: Readonly<Session<D>> | undefined;
  /** With `guest` on and nobody signed in: the guest's data (empty until a Route Handler or Server Action writes to it). */
  readonly guest: Readonly<GuestSession<D>> | undefined;
  /** The CSRF token a form or fetch on the page must send back (session or saved guest), else undefined. */
  readonly csrfToken: string | undefined;
}

/**
 * A session error with the answer to send: 503 (with Retry-After) when the cache cannot be
 * reached, 500 when a change could not be saved. `sessions.route()` answers with it for you;
 * elsewhere `return sessionErrorResponse(error)` or `error.toResponse()`.
 */
export class SessionError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: string; readonly message: string };

  constructor(response: ErrorResponse, options?: { cause?: unknown }) {
    super(response.body.message, options);
    this.name = 'SessionError';
    this.status = response.status;
    this.headers = response.headers;
    this.body = response.body;
  }

  /** The JSON answer: status, headers (Retry-After on 503) and `{ error, message }`. */
  toResponse(): Response {
    return Response.json(this.body, { status: this.status, headers: this.headers });
  }
}

/**
 * The answer for a session error: a `SessionError`'s, or 503 with Retry-After for a cache
 * error thrown by `login()`, `store.list()` and the like; undefined for any other error
 * (rethrow it).
 *
 * ```ts
 * try { ... } catch (error) { const response = sessionErrorResponse(error); if (response) return response; throw error; }
 * ```
 */
export function sessionErrorResponse(error: unknown): Response | undefined {
  if (error instanceof SessionError) return error.toResponse();
  if (isCacheUnavailable(error)) return new SessionError(unavailableResponse(), { cause: error }).toResponse();
  return undefined;
}

/** The attributes `cookies().set` takes, from the core's `cookie` options. */
function nextCookieOptions(options: SerializeOptions) {
  return {
    httpOnly: options.httpOnly,
    secure: options.secure,
    sameSite: options.sameSite,
    path: options.path,
    domain: options.domain,
    maxAge: options.maxAge,
    expires: options.expires,
  };
}

/**
 * One request's session in a Route Handler or Server Action (from `sessions.get()`).
 * Changes to `session` / `guest` fields are written by `save()`; `login()`, `logout()` and
 * `logoutAll()` set their cookies at once.
 */
export class NextRequestSession<D extends object = SessionData> {
  /** @internal Use `sessions.get()`. */
  constructor(
    private readonly request: RequestSession<D>,
    private readonly csrfCheck: CsrfCheck,
  ) {}

  /** The signed-in session (field changes are recorded for `save()`), or undefined. */
  get session(): Session<D> | undefined {
    return this.request.session;
  }

  /** With `guest` on and nobody signed in: the guest's data, stored by `save()` once a field is written. */
  get guest(): GuestSession<D> | undefined {
    return this.request.guest;
  }

  /** The session id (the cookie value). Never log it or send it elsewhere. */
  get id(): string | undefined {
    return this.request.id;
  }

  /** The CSRF token unsafe requests must send back (the session's or a saved guest's), else undefined. */
  get csrfToken(): string | undefined {
    return this.request.csrfToken;
  }

  /** Sign `user` in under a NEW session id (no fixation), carrying the guest's `keep` fields; sets the cookies. */
  async login(user: SessionInput<D> & { userId: string }, options?: LoginOptions): Promise<Session<D>> {
    const session = await this.request.login(user, options);
    await this.setCookies();
    return session;
  }

  /** End this session (and its remember-me token) and clear the cookies. */
  async logout(): Promise<void> {
    await this.request.logout();
    await this.setCookies();
  }

  /** End every session of the signed-in user, this one too; resolves how many ended. */
  async logoutAll(): Promise<number> {
    const ended = await this.request.logoutAll();
    await this.setCookies();
    return ended;
  }

  /**
   * Write this request's changes (changed session fields; the guest session on its first
   * write) and set the cookies. Throws a `SessionError` (503 or 500) when they could not be
   * saved. `sessions.route()` calls it after the handler.
   */
  async save(): Promise<void> {
    const failure = await this.request.save();
    await this.setCookies();
    if (failure) throw new SessionError(failure);
  }

  /**
   * The CSRF check for an unsafe request (POST, PUT, PATCH, DELETE...) that carries a session
   * or saved guest: the token from the `x-csrf-token` header, else the `csrfToken` field of a
   * JSON or form body (read from a clone). Resolves a 403 JSON answer, or undefined to go on.
   */
  async checkCsrf(request: Request): Promise<Response | undefined> {
    const { csrfCheck } = this;
    if (!csrfCheck.needsToken(request.method) || this.request.csrfToken === undefined) return undefined;
    const sent = request.headers.get(csrfCheck.header) ?? (await bodyField(request, csrfCheck.field));
    const failure = csrfCheck.check(this.request as unknown as RequestSession<object>, request.method, sent);
    return failure ? Response.json(failure, { status: 403 }) : undefined;
  }

  /** @internal Put the core's pending cookies on the response through `cookies().set`. */
  async setCookies(): Promise<void> {
    const pending = this.request.takeCookies();
    if (pending.length === 0) return;
    const store = await cookies();
    try {
      for (const cookie of pending) store.set(cookie.name, cookie.value, nextCookieOptions(cookie.options));
    } catch (error) {
      throw new Error(
        'lix-cache-session/next: the session had to set a cookie where Next.js allows none (a Server Component?). Use sessions.read() in Server Components, and sessions.get() in Route Handlers and Server Actions; put pages behind sessions.guard() in the proxy, which signs remembered users in.',
        { cause: error },
      );
    }
  }
}

/** The client IP from X-Forwarded-For: the entry `hops` from the right (the address the nearest trusted proxy saw). */
function forwardedFor(headers: Headers, hops: number): string | undefined {
  const chain = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (chain.length === 0) return undefined;
  return chain[Math.max(0, chain.length - hops)];
}

/**
 * The Cookie header a proxy passes on: the request's own, with the cookies this request set
 * or cleared replaced (the others are passed on byte for byte).
 */
function forwardCookies(header: string | null, pending: PendingCookie[]): string {
  const changed = new Set(pending.map((cookie) => cookie.name));
  const kept = (header ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !changed.has((part.includes('=') ? part.slice(0, part.indexOf('=')) : part).trim()));
  const added = pending.filter((cookie) => cookie.value !== '').map((cookie) => `${cookie.name}=${encodeURIComponent(cookie.value)}`);
  return [...kept, ...added].join('; ');
}

/** Sessions for one Next.js app: make it once (`nextSession(options)`) in a module of its own. */
export class NextSessions<D extends object = SessionData> {
  /** The neutral core, for anything this class does not cover. */
  readonly handler: SessionHandler<D>;
  private readonly csrfCheck: CsrfCheck;
  private readonly clientIp: ((headers: Headers) => string | undefined) | undefined;
  /** One session per request: keyed on the request's headers object, which Next.js keeps for the whole request. */
  private readonly open = new WeakMap<object, Promise<NextRequestSession<D>>>();

  /** @internal Use `nextSession(options)`. */
  constructor(options: NextSessionOptions<D>) {
    this.handler = new SessionHandler(options as unknown as LixSessionOptions<D>);
    this.csrfCheck = createCsrfCheck(options.csrf);
    const { trustProxy, clientIp } = options;
    if (clientIp !== undefined && typeof clientIp !== 'function') throw new TypeError('nextSession: clientIp must be a function (headers) => string | undefined, e.g. (headers) => headers.get("x-real-ip") ?? undefined.');
    if (trustProxy !== undefined && (!Number.isInteger(trustProxy) || trustProxy < 1)) {
      throw new TypeError(`nextSession: trustProxy is the number of proxies in front of the app that append to X-Forwarded-For (1 or more); got ${String(trustProxy)}.`);
    }
    this.clientIp = clientIp ?? (trustProxy ? (headers) => forwardedFor(headers, trustProxy) : undefined);
    if (this.handler.store.options.ipBinding !== 'off' && !this.clientIp) {
      throw new TypeError(
        "nextSession: the store binds sessions to the client IP (binding.ip), but Next.js does not expose the client's address. Pass trustProxy: 1 (the number of proxies in front of the app that append to X-Forwarded-For) or clientIp: (headers) => ... .",
      );
    }
  }

  private client(headers: Headers): ClientInfo {
    return { ip: this.clientIp?.(headers), userAgent: headers.get('user-agent') ?? undefined };
  }

  /**
   * This request's session, in a Route Handler or Server Action: reads the session cookie,
   * signs a remembered user in again, starts the guest (with `guest` on). The same object for
   * every call in one request. Throws a `SessionError` (503) when the cache cannot be reached.
   */
  get(): Promise<NextRequestSession<D>> {
    return headers().then((requestHeaders) => {
      let session = this.open.get(requestHeaders);
      if (!session) {
        session = this.load(requestHeaders);
        this.open.set(requestHeaders, session);
      }
      return session;
    });
  }

  /** Begin and load a request's session; a cache error becomes a 503 `SessionError`. */
  private async begin(cookieHeader: string | null, requestHeaders: Headers): Promise<RequestSession<D>> {
    const request = this.handler.begin(cookieHeader, this.client(requestHeaders));
    try {
      await request.load();
    } catch (error) {
      if (!isCacheUnavailable(error)) throw error;
      this.handler.onLoadError?.(error, undefined);
      throw new SessionError(unavailableResponse(), { cause: error });
    }
    return request;
  }

  private async load(requestHeaders: Headers): Promise<NextRequestSession<D>> {
    const request = await this.begin(requestHeaders.get('cookie'), requestHeaders);
    const session = new NextRequestSession(request, this.csrfCheck);
    await session.setCookies();
    return session;
  }

  /**
   * The session for a Server Component, which cannot set cookies: read only, and no
   * remember-me sign-in (that rotates a cookie). Put the page behind `guard()` in the proxy,
   * which signs remembered users in and hands the new cookie on to the page.
   */
  async read(): Promise<ReadonlyRequestSession<D>> {
    const [jar, requestHeaders] = await Promise.all([cookies(), headers()]);
    const { name, guestName } = this.handler.cookies;
    const header = [name, guestName]
      .map((cookie) => jar.get(cookie))
      .filter((cookie) => cookie !== undefined)
      .map((cookie) => `${cookie.name}=${encodeURIComponent(cookie.value)}`)
      .join('; ');
    const request = await this.begin(header, requestHeaders);
    return { session: request.session, guest: request.guest, csrfToken: request.csrfToken };
  }

  /**
   * Wrap a Route Handler: loads the session (503 when the cache is down), checks the CSRF
   * token of unsafe requests that carry a session, runs `handler`, saves the changes, and
   * answers 503 for cache errors the handler throws (`login`, `store.list`...).
   *
   * ```ts
   * export const POST = sessions.route(async (request, s) => {
   *   s.session!.theme = 'dark';
   *   return Response.json({ theme: 'dark' });
   * });
   * ```
   */
  route<C = unknown>(
    handler: (request: Request, session: NextRequestSession<D>, context: C) => Response | Promise<Response>,
    options: RouteOptions = {},
  ): (request: Request, context: C) => Promise<Response> {
    if (typeof handler !== 'function') throw new TypeError('sessions.route(handler): handler must be a function (request, session, context) => Response.');
    const csrf = options.csrf ?? true;
    return async (request, context) => {
      try {
        const session = await this.get();
        if (csrf) {
          const denied = await session.checkCsrf(request);
          if (denied) return denied;
        }
        const response = await handler(request, session, context);
        await session.save();
        return response;
      } catch (error) {
        const response = sessionErrorResponse(error);
        if (response) return response;
        throw error;
      }
    };
  }

  /**
   * A guard for protected paths, in `proxy.ts` (or `middleware.ts` with `runtime: 'nodejs'`
   * on Next 15): checks the session for real (one cache read), signs remembered users in
   * again and hands their new cookie on to the page. Without a session: a redirect to
   * `loginPath` (`?next=` the path asked for), or 401 JSON without one. 503 when the cache
   * is down. Return its answer from the proxy.
   *
   * ```ts
   * export async function proxy(request: NextRequest) {
   *   return sessions.guard(request, { loginPath: '/login' });
   * }
   * export const config = { matcher: ['/account/:path*'] };
   * ```
   */
  async guard(request: Request, options: GuardOptions = {}): Promise<Response> {
    const { loginPath, returnTo = 'next' } = options;
    if (loginPath !== undefined && (typeof loginPath !== 'string' || !loginPath.startsWith('/') || loginPath.startsWith('//'))) {
      throw new TypeError(`sessions.guard: loginPath must be a path on this site such as '/login'; got ${String(loginPath)}.`);
    }
    const cookieHeader = request.headers.get('cookie');
    let state: RequestSession<D>;
    try {
      state = await this.begin(cookieHeader, request.headers);
    } catch (error) {
      if (error instanceof SessionError) return error.toResponse();
      throw error;
    }
    const pending = state.takeCookies();
    let response: Response;
    if (state.session) {
      // The page runs with the cookies this request now has (a resumed remember-me session).
      const forwarded = new Headers(request.headers);
      if (pending.length > 0) forwarded.set('cookie', forwardCookies(cookieHeader, pending));
      response = NextResponse.next({ request: { headers: forwarded } });
    } else if (loginPath !== undefined) {
      const url = new URL(request.url);
      const target = new URL(loginPath, url);
      if (returnTo) target.searchParams.set(returnTo, url.pathname + url.search);
      const safe = request.method === 'GET' || request.method === 'HEAD';
      response = NextResponse.redirect(target, safe ? 307 : 303);
    } else {
      response = Response.json({ error: 'Not authenticated' }, { status: 401 });
    }
    for (const cookie of pending) response.headers.append('set-cookie', cookie.line);
    return response;
  }
}

/**
 * Sessions for a Next.js app (App Router). Make it once, in a module of its own, and use it
 * from Route Handlers, Server Actions, Server Components and the proxy.
 *
 * ```ts
 * // lib/sessions.ts
 * export const sessions = nextSession({ store, cookie: { secure: process.env.NODE_ENV === 'production' } });
 * // app/api/profile/route.ts
 * export const GET = sessions.route(async (_request, s) =>
 *   s.session ? Response.json({ username: s.session.username }) : Response.json({ error: 'Not authenticated' }, { status: 401 }));
 * ```
 */
export function nextSession<D extends object = SessionData, N extends string = string>(options: NextSessionOptions<D, N>): NextSessions<D> {
  if (typeof options !== 'object' || options === null) throw new TypeError('nextSession(options) needs an object with a SessionStore: nextSession({ store: new SessionStore() }).');
  return new NextSessions(options as unknown as NextSessionOptions<D>);
}
