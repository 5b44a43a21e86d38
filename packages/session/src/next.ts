/**
 * lix-cache-session/next: sessions for the Next.js App Router (Next 15.5+ and 16).
 *
 * `nextSession(options)` once per app; then `await sessions.get()` in Route Handlers and
 * Server Actions (reads `cookies()` / `headers()` from `next/headers`, writes cookies
 * through `cookies().set`), `sessions.route(handler)` to wrap a Route Handler (load, CSRF,
 * save, 503 when the cache is down), `sessions.read()` in Server Components (never writes),
 * and `sessions.guard(request, { loginPath })` in `proxy.ts` (`middleware.ts` before Next 16)
 * for protected paths.
 *
 * The only entry that imports `next`: an optional peer dependency.
 * @module lix-cache-session/next
 */
export { nextSession, NextSessions, NextRequestSession, SessionError, sessionErrorResponse } from './next-session';
export type { NextSessionOptions, GuardOptions, RouteOptions, ReadonlyRequestSession } from './next-session';
export { isCacheUnavailable, UNAVAILABLE_BODY } from './responses';
export type { GuestOptions } from './handler-options';
export type { GuestSession, LoginOptions } from './session-handler';
export type { SessionCookieOptions } from './cookies';
export type { CsrfOptions } from './csrf';
