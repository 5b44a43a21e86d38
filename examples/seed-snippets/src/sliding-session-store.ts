// Seed: session-management.md, "Advanced Session Features > Sliding Window Expiration".

// ---- harness (not from the seed) ----
import { cache, type Session } from './simple-session-store';

// ---- seed, verbatim ----
class SlidingSessionStore {
  private readonly TTL = 3600; // 1 hour
  private readonly IDLE_TIMEOUT = 1800; // 30 minutes

  async get(sessionId: string): Promise<Session | null> {
    const session = await cache.get<Session>(`session:${sessionId}`);

    if (!session) return null;

    const now = Date.now();
    const timeSinceLastAccess = (now - session.lastAccess) / 1000;

    // Check idle timeout
    if (timeSinceLastAccess > this.IDLE_TIMEOUT) {
      await this.delete(sessionId);
      return null;
    }

    // Update last access and extend TTL
    session.lastAccess = now;
    await cache.set(`session:${sessionId}`, session, { ttl: this.TTL });

    return session;
  }
}
// ---- end of seed ----

// ---- harness (not from the seed) ----
// The seed calls this.delete() but never declares it (SessionStore above has it); declared here.
interface SlidingSessionStore {
  delete(sessionId: string): Promise<void>;
}
SlidingSessionStore.prototype.delete = async function (sessionId: string): Promise<void> {
  await cache.delete(`session:${sessionId}`);
};

export { SlidingSessionStore };
