/**
 * lix-cache-session/express: the Express middleware (`lixSession`, `csrfProtection`,
 * `sessionErrorHandler`) and the typing of `req.session`, `req.login()` and the rest.
 *
 * An entry of its own so that the `Express.Request` typing reaches only apps that use this
 * middleware: a program that holds express-session's typing of `req.session` as well
 * (`@types/express-session`) can still import the main entry's `SessionStore`.
 * @module lix-cache-session/express
 */
export { lixSession, csrfProtection, sessionErrorHandler } from './express-middleware';
export type { LixSessionOptions } from './express-middleware';
export { isCacheUnavailable, UNAVAILABLE_BODY } from './responses';
export type { TrustProxy } from './client-address';
export type { SessionCookieOptions } from './cookies';
export type { GuestOptions } from './handler-options';
export type { CsrfOptions } from './csrf';
export type { GuestSession } from './session-handler';
export type { LoginOptions, Register, RegisteredSessionData } from './express-types';
