import type { SessionCookieOptions } from './cookies';
import type { SessionData } from './options';
import type { SessionInput, SessionStore } from './session-store';

/**
 * Options every framework adapter takes (`lixSession(options)` for Express, Fastify and
 * Hono, `nextSession(options)` for Next.js).
 */
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
   * Remember-me: `login(user, { rememberMe: true })` also sets a long-lived cookie, and
   * a request without a session but with that cookie signs the user in again: the token is
   * rotated, `loadUser(userId)` supplies the new session's data (return null to refuse).
   * Token lifetime and prefix are the store's `rememberMe` options.
   */
  rememberMe?: { loadUser: (userId: string) => SessionInput<D> | null | undefined | Promise<SessionInput<D> | null | undefined> };
  /**
   * Guest sessions, before login (default off). With `true` or an object, a request nobody
   * is signed in on gets a `guest` object: a session is stored only once the request writes
   * a field to it (express-session's `saveUninitialized: false`), in its own cookie. At
   * login the guest session ends and its `keep` fields move into the new session.
   */
  guest?: boolean | GuestOptions;
  /** Called with errors that kept a session change from being saved (default: `console.error`). */
  onSaveError?: (error: unknown, request: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any -- each adapter narrows it to its request type
  /**
   * Called with the error (its `cause` says why) when the cache could not be reached to load a
   * request's session, just before the request is answered 503: the place to log it (default: none).
   */
  onLoadError?: (error: unknown, request: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any -- each adapter narrows it to its request type
}

/** Options of guest sessions. */
export interface GuestOptions {
  /** Guest fields carried into the session at login, e.g. `['cart']` (default none: the rest is dropped). */
  keep?: string[];
}
