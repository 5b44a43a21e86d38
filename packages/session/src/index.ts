/**
 * lix-cache-session: secure sessions on Lix Cache. A `SessionStore` (the seed's API and
 * more), Express middleware with CSRF protection and remember-me, and, from
 * `lix-cache-session/express-session`, an express-session store.
 * @module lix-cache-session
 */
export { SessionStore } from './session-store';
export type { ClientInfo, CreateOptions, DeviceSession, RememberResult, Session, SessionInfo, SessionInput, SessionMetrics } from './session-store';
export type { RememberMeOptions, SessionData, SessionStoreOptions } from './options';
export type { IpBinding } from './client-ip';
export { SessionValidationError } from './errors';
export { lixSession, sessionErrorHandler, isCacheUnavailable, UNAVAILABLE_BODY } from './express-middleware';
export type { LixSessionOptions, TrustProxy } from './express-middleware';
export type { SessionCookieOptions } from './cookies';
export { csrfProtection } from './csrf';
export type { CsrfOptions } from './csrf';
export type { LoginOptions, Register, RegisteredSessionData } from './express-types';
