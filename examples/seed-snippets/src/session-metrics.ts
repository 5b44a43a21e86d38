// Seed: session-management.md, "Session Analytics > Track Session Metrics".

// ---- harness (not from the seed) ----
import { cache, type Session } from './simple-session-store';
import { harnessApp } from './harness';

const app = harnessApp();

// ---- seed, verbatim ----
interface SessionMetrics {
  totalSessions: number;
  activeSessions: number;
  averageSessionLength: number;
  uniqueUsers: number;
}

async function getSessionMetrics(): Promise<SessionMetrics> {
  // Scan all sessions
  const result = await cache.scan({ prefix: 'session:' });

  const sessions = result.items.map(item => item.value as Session);

  const now = Date.now();
  const activeSessions = sessions.filter(s => {
    const idleTime = (now - s.lastAccess) / 1000;
    return idleTime < 300; // Active in last 5 minutes
  });

  const sessionLengths = sessions.map(s => now - s.createdAt);
  const avgLength = sessionLengths.reduce((a, b) => a + b, 0) / sessionLengths.length;

  const uniqueUsers = new Set(sessions.map(s => s.userId)).size;

  return {
    totalSessions: sessions.length,
    activeSessions: activeSessions.length,
    averageSessionLength: avgLength,
    uniqueUsers
  };
}

// Endpoint to view metrics
app.get('/api/admin/sessions/metrics', async (req, res) => {
  const metrics = await getSessionMetrics();

  res.json(metrics);
});
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { app, getSessionMetrics, type SessionMetrics };
