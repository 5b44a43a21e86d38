// Seed: session-management.md, "Security Features > Concurrent Login Prevention".

// ---- harness (not from the seed) ----
import { randomUUID } from 'crypto';
import { cache } from './simple-session-store';

// ---- seed, verbatim ----
async function createExclusiveSession(userId: string): Promise<string> {
  // Get user's existing sessions
  const existingSessions: string[] = await cache.get(`user:${userId}:sessions`) || [];

  // Delete all existing sessions
  await Promise.all(existingSessions.map(id => cache.delete(`session:${id}`)));

  // Create new session
  const sessionId = randomUUID();
  const session = {
    userId,
    createdAt: Date.now(),
    lastAccess: Date.now()
  };

  await cache.set(`session:${sessionId}`, session, { ttl: 3600 });
  await cache.set(`user:${userId}:sessions`, [sessionId], { ttl: 3600 });

  return sessionId;
}
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { createExclusiveSession };
