/**
 * lix-cache-session: secure sessions on Lix Cache. A `SessionStore` (the seed's API and
 * more); from `lix-cache-session/express`, Express middleware with CSRF protection and
 * remember-me; from `lix-cache-session/express-session`, an express-session store.
 * @module lix-cache-session
 */
export { SessionStore } from './session-store';
export type { ClientInfo, CreateOptions, DeviceSession, RememberResult, Session, SessionInfo, SessionInput, SessionMetrics } from './session-store';
export type { RememberMeOptions, SessionData, SessionStoreOptions } from './options';
export type { IpBinding } from './client-ip';
export { SessionValidationError } from './errors';
