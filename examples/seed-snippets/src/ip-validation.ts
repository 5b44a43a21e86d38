// Seed: session-management.md, "Security Features > IP Validation".

// ---- harness (not from the seed) ----
import { randomUUID } from 'crypto';
import { cache, type Session } from './simple-session-store';
import { harnessApp } from './harness';

const app = harnessApp();

// ---- seed, verbatim ----
class SecureSessionStore {
  async create(userId: string, ip: string): Promise<string> {
    const sessionId = randomUUID();
    const session = {
      userId,
      ip,
      createdAt: Date.now(),
      lastAccess: Date.now()
    };

    await cache.set(`session:${sessionId}`, session, { ttl: 3600 });

    return sessionId;
  }

  async get(sessionId: string, currentIP: string): Promise<Session | null> {
    const session = await cache.get<Session & { ip: string }>(`session:${sessionId}`);

    if (!session) return null;

    // Validate IP matches
    if (session.ip !== currentIP) {
      console.warn(`IP mismatch for session ${sessionId}`);
      await this.delete(sessionId);
      return null;
    }

    return session;
  }
}

// Middleware
app.use(async (req, res, next) => {
  const sessionId = req.cookies.sessionId;
  const clientIP = req.ip || req.connection.remoteAddress;

  if (sessionId) {
    // @ts-expect-error seed type error (not a Lix Cache one): clientIP (req.ip || req.connection.remoteAddress) is string | undefined; get() takes a string.
    const session = await secureSessionStore.get(sessionId, clientIP);

    if (session) {
      req.session = session;
    } else {
      res.clearCookie('sessionId');
    }
  }

  next();
});
// ---- end of seed ----

// ---- harness (not from the seed) ----
// The seed calls this.delete() but never declares it (SessionStore above has it); declared here.
interface SecureSessionStore {
  delete(sessionId: string): Promise<void>;
}
SecureSessionStore.prototype.delete = async function (sessionId: string): Promise<void> {
  await cache.delete(`session:${sessionId}`);
};

const secureSessionStore = new SecureSessionStore();

export { app, SecureSessionStore, secureSessionStore };
