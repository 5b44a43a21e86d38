import type { SessionData } from './options';
import type { GuestSession, LoginOptions } from './session-handler';
import type { Session, SessionInput, SessionStore } from './session-store';

export type { LoginOptions };

/*
 * express-session declares `req.session` too, with another type, and two global
 * declarations of one property cannot differ. So this typing ships only with the
 * `lix-cache-session/express` entry (an app uses one of the two middlewares), never with the
 * main entry or the express-session store. A declaration file on purpose as well: this
 * repository's own program holds both (the benchmark compares them), and `skipLibCheck`
 * skips the clash in a .d.ts.
 */

/**
 * Register your store to type `req.session` everywhere (declaration merging):
 *
 * ```ts
 * declare module 'lix-cache-session/express' {
 *   interface Register { store: typeof sessions }
 * }
 * ```
 * Without it, `req.session` holds `SessionData` (any JSON fields).
 */
export interface Register {}

/** The session data type of the registered store. */
export type RegisteredSessionData = Register extends { store: SessionStore<infer D> } ? D : SessionData;

declare global {
  // Declaration merging is how Express types what middleware adds to a request.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The signed-in user's session (from `lixSession()`), or undefined. Change its fields
       * freely: only the changed ones are written back, when the response ends.
       */
      session?: Session<RegisteredSessionData>;
      /** The session id (the cookie value). Never log or send it elsewhere. */
      sessionId?: string;
      /**
       * With `lixSession({ guest })` and nobody signed in: the guest's data. Written once a
       * field changes; at `req.login()` its `keep` fields move into the new session.
       */
      guest?: GuestSession<RegisteredSessionData>;
      /**
       * Sign `user` in: ends the current session, if any, and creates one under a NEW id
       * (no session fixation), sets the cookie, and `req.session`.
       */
      login(user: SessionInput<RegisteredSessionData> & { userId: string }, options?: LoginOptions): Promise<Session<RegisteredSessionData>>;
      /** End this session (and its remember-me token) and clear the cookies. */
      logout(): Promise<void>;
      /** End every session and remember-me token of the signed-in user, this one too. Resolves how many sessions ended. */
      logoutAll(): Promise<number>;
    }
  }
}
