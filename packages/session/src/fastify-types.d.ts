import type { SessionData } from './options';
import type { GuestSession as LixGuestSession, LoginOptions as LixLoginOptions } from './session-handler';
import type { Session as LixSession, SessionInput as LixSessionInput, SessionStore } from './session-store';

// Inside `declare module 'fastify'` below, names resolve in fastify's scope first, where
// @fastify/session declares an interface `Session`: hence the Lix* aliases.

/*
 * @fastify/session declares `request.session` too, with another type, and two declarations
 * of one property cannot differ. So this typing ships only with the
 * `lix-cache-session/fastify` entry (an app uses one of the two plugins), never with the
 * main entry. A declaration file on purpose as well: a program that holds both (this
 * repository's does) type-checks, since `skipLibCheck` skips the clash in a .d.ts.
 */

/**
 * Register your store to type `request.session` everywhere (declaration merging):
 *
 * ```ts
 * declare module 'lix-cache-session/fastify' {
 *   interface Register { store: typeof sessions }
 * }
 * ```
 * Without it, `request.session` holds `SessionData` (any JSON fields).
 */
export interface Register {}

/** The session data type of the registered store. */
export type RegisteredSessionData = Register extends { store: SessionStore<infer D> } ? D : SessionData;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The signed-in user's session (from the `lixSession` plugin), or undefined. Change its
     * fields freely: only the changed ones are written back, before the response goes out.
     * Read-only itself: sign in with `request.login()`, out with `request.logout()`.
     */
    readonly session: LixSession<RegisteredSessionData> | undefined;
    /** The session id (the cookie value), or undefined. Never log or send it elsewhere. */
    readonly sessionId: string | undefined;
    /**
     * With the plugin's `guest` option on and nobody signed in: the visitor's guest data
     * (written, and its cookie set, on the first change only). Undefined otherwise.
     */
    readonly guest: LixGuestSession<RegisteredSessionData> | undefined;
    /**
     * Sign `user` in: ends the current session, if any, and creates one under a NEW id
     * (no session fixation), sets the cookie, and `request.session`.
     */
    login(user: LixSessionInput<RegisteredSessionData> & { userId: string }, options?: LixLoginOptions): Promise<LixSession<RegisteredSessionData>>;
    /** End this session (and its remember-me token) and clear the cookies. */
    logout(): Promise<void>;
    /** End every session and remember-me token of the signed-in user, this one too. Resolves how many sessions ended. */
    logoutAll(): Promise<number>;
  }
}
