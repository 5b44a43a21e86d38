// Seed: session-management.md, "Security Features > CSRF Protection".

// ---- harness (not from the seed) ----
import { randomUUID } from 'crypto';
import type { NextFunction, Request, Response } from 'express';
import { cache, type Session } from './simple-session-store';
import { harnessApp } from './harness';

const app = harnessApp();

// ---- seed, verbatim ----
interface SessionWithCSRF extends Session {
  csrfToken: string;
}

async function createSessionWithCSRF(userId: string): Promise<{ sessionId: string; csrfToken: string }> {
  const sessionId = randomUUID();
  const csrfToken = randomUUID();

  // @ts-expect-error seed type error (not a Lix Cache one): SessionWithCSRF extends Session, which requires username and email; this literal has neither.
  const session: SessionWithCSRF = {
    userId,
    csrfToken,
    createdAt: Date.now(),
    lastAccess: Date.now()
  };

  await cache.set(`session:${sessionId}`, session, { ttl: 3600 });

  return { sessionId, csrfToken };
}

// Validate CSRF token
function validateCSRF(req: Request, res: Response, next: NextFunction) {
  if (req.method === 'GET') return next();

  const session = req.session as SessionWithCSRF;
  const token = req.headers['x-csrf-token'] || req.body.csrfToken;

  if (!session || !token || session.csrfToken !== token) {
    return res.status(403).json({ error: 'Invalid CSRF token' });
  }

  next();
}

app.use(validateCSRF);
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { app, createSessionWithCSRF, validateCSRF, type SessionWithCSRF };
