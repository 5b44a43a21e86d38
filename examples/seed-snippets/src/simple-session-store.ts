// Seed: session-management.md, "Basic Session Storage > Simple Session Store".

// ---- seed, verbatim ----
import { LixCache } from 'lix-cache-sdk';
import { randomUUID } from 'crypto';

const cache = new LixCache();

interface Session {
  userId: string;
  username: string;
  email: string;
  createdAt: number;
  lastAccess: number;
}

class SessionStore {
  private readonly TTL = 3600; // 1 hour

  async create(userId: string, data: Omit<Session, 'createdAt' | 'lastAccess'>): Promise<string> {
    const sessionId = randomUUID();
    const session: Session = {
      ...data,
      createdAt: Date.now(),
      lastAccess: Date.now()
    };

    await cache.set(`session:${sessionId}`, session, { ttl: this.TTL });

    return sessionId;
  }

  async get(sessionId: string): Promise<Session | null> {
    const session = await cache.get<Session>(`session:${sessionId}`);

    if (session) {
      // Update last access time
      session.lastAccess = Date.now();
      await cache.set(`session:${sessionId}`, session, { ttl: this.TTL });
    }

    return session;
  }

  async delete(sessionId: string): Promise<void> {
    await cache.delete(`session:${sessionId}`);
  }

  async refresh(sessionId: string): Promise<boolean> {
    const session = await cache.get<Session>(`session:${sessionId}`);

    if (!session) return false;

    // Extend TTL
    await cache.set(`session:${sessionId}`, session, { ttl: this.TTL });

    return true;
  }
}

// Usage
const sessions = new SessionStore();

// Create session after login
const sessionId = await sessions.create('user-123', {
  userId: 'user-123',
  username: 'alice',
  email: 'alice@example.com'
});

// Get session
const session = await sessions.get(sessionId);

// Delete session (logout)
await sessions.delete(sessionId);
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { cache, SessionStore, sessions, sessionId, session, type Session };
