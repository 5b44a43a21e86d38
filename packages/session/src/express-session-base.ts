import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { isMissingPackage, missingPeer } from 'lix-cache-core';

/**
 * The part of express-session's `Store` class that `LixSessionStore` inherits. Loaded with
 * require, not imported, so that this package's own `req.session` typing and express-session's
 * never meet in one program (they declare the same property differently).
 */
export interface ExpressSessionStore extends EventEmitter {
  // express-session's own signatures use its Request type; `any` keeps them assignable.
  regenerate(req: any, callback: (err?: any) => any): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  load(sid: string, callback: (err: any, session?: any) => any): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  createSession(req: any, session: any): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const FEATURE = 'lix-cache-session/express-session';

/**
 * express-session's `Store` when express-session is installed (an optional peer). Without it
 * (an @fastify/session app, which calls get/set/destroy only), an EventEmitter whose
 * express-session helpers say that express-session is missing.
 */
export function expressSessionStoreBase(): new () => ExpressSessionStore {
  try {
    return (createRequire(import.meta.url)('express-session') as { Store: new () => ExpressSessionStore }).Store;
  } catch (error) {
    if (!isMissingPackage(error, 'express-session')) throw error;
    const missing = (): never => {
      throw missingPeer(FEATURE, 'express-session', error);
    };
    return class StoreWithoutExpressSession extends EventEmitter implements ExpressSessionStore {
      regenerate(): void {
        missing();
      }
      load(): void {
        missing();
      }
      createSession(): never {
        return missing();
      }
    };
  }
}
