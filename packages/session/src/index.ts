/**
 * lix-cache-session: secure sessions on Lix Cache. A `SessionStore` (the seed's API and
 * more), and the framework-neutral core the adapters are built on (`createSessionHandler`).
 * The adapters: `lix-cache-session/express`, `/fastify`, `/hono`, `/next`; and
 * `lix-cache-session/express-session`, an express-session store.
 * @module lix-cache-session
 */
export { SessionStore } from './session-store';
export type { ClientInfo, CreateOptions, DeviceSession, RememberResult, Session, SessionInfo, SessionInput, SessionMetrics } from './session-store';
export type { RememberMeOptions, SessionData, SessionStoreOptions } from './options';
export type { IpBinding } from './client-ip';
export { SessionValidationError } from './errors';
export { createSessionHandler, SessionHandler, RequestSession } from './session-handler';
export type { GuestSession, LoginOptions, PendingCookie } from './session-handler';
export type { GuestOptions, LixSessionOptions } from './handler-options';
export type { SessionCookieOptions } from './cookies';
export { isCacheUnavailable, unavailableResponse, UNAVAILABLE_BODY } from './responses';
export type { ErrorResponse } from './responses';
export { createCsrfCheck } from './csrf';
export type { CsrfCheck, CsrfFailure, CsrfOptions } from './csrf';
export type { GuestData } from './session-store';
export { clientAddress, compileTrust } from './client-address';
export type { TrustFunction, TrustProxy } from './client-address';
