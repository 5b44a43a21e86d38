// Seed: session-management.md, "Best Practices > 3. Clean Up Expired Sessions".

// ---- harness (not from the seed) ----
import { cache, type Session } from './simple-session-store';

/** The seed's interval callback, kept so tests can run one pass without waiting an hour. */
let cleanUpExpiredSessions: () => Promise<void> = async () => {};

// Schedules like the global one, but remembers the callback and does not keep the process alive.
function setInterval(callback: () => Promise<void>, ms: number): NodeJS.Timeout {
  cleanUpExpiredSessions = callback;
  return globalThis.setInterval(callback, ms).unref();
}

// ---- seed, verbatim ----
// Periodically clean up expired sessions
setInterval(async () => {
  const result = await cache.scan({ prefix: 'session:' });

  const now = Date.now();
  for (const item of result.items) {
    const session = item.value as Session;
    const age = (now - session.lastAccess) / 1000;

    if (age > 7200) { // 2 hours idle
      await cache.delete(item.key);
    }
  }
}, 3600000); // Run every hour
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { cleanUpExpiredSessions };
