import { afterAll, beforeAll, describe, it, expect, beforeEach } from 'vitest';
import { SessionStore } from 'lix-cache-session';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';

// The seed's "Testing Sessions" block, verbatim, against a real Lix server (http://) and
// the in-process engine (memory://). `new SessionStore()` reads LIX_CACHE_URL.
const backends = ['http', 'memory'] as const;

describe.each(backends)('seed tests over %s://', (backend) => {
  let server: ServerProcess | undefined;
  const previousUrl = process.env.LIX_CACHE_URL;

  beforeAll(async () => {
    if (backend === 'http') {
      server = await startServer();
      process.env.LIX_CACHE_URL = server.url;
    } else {
      process.env.LIX_CACHE_URL = 'memory://seed-testing-sessions';
    }
  });

  afterAll(async () => {
    if (previousUrl === undefined) delete process.env.LIX_CACHE_URL;
    else process.env.LIX_CACHE_URL = previousUrl;
    await server?.stop();
  });

  // ---- verbatim from seed/session-management.md, "Testing Sessions" ----
  describe('Session management', () => {
    let sessions: SessionStore;

    beforeEach(() => {
      sessions = new SessionStore();
    });

    it('creates and retrieves session', async () => {
      const sessionId = await sessions.create('user-1', {
        userId: 'user-1',
        username: 'alice',
        email: 'alice@example.com'
      });

      const session = await sessions.get(sessionId);

      expect(session).toBeDefined();
      expect(session?.userId).toBe('user-1');
      expect(session?.username).toBe('alice');
    });

    it('returns null for expired session', async () => {
      const sessionId = 'expired-session-id';

      const session = await sessions.get(sessionId);

      expect(session).toBeNull();
    });

    it('deletes session on logout', async () => {
      const sessionId = await sessions.create('user-1', {
        userId: 'user-1',
        username: 'alice',
        email: 'alice@example.com'
      });

      await sessions.delete(sessionId);

      const session = await sessions.get(sessionId);
      expect(session).toBeNull();
    });

    it('updates last access time', async () => {
      const sessionId = await sessions.create('user-1', {
        userId: 'user-1',
        username: 'alice',
        email: 'alice@example.com'
      });

      const session1 = await sessions.get(sessionId);
      const lastAccess1 = session1!.lastAccess;

      await new Promise(resolve => setTimeout(resolve, 100));

      const session2 = await sessions.get(sessionId);
      const lastAccess2 = session2!.lastAccess;

      expect(lastAccess2).toBeGreaterThan(lastAccess1);
    });
  });
  // ---- end of the seed's block ----
});
