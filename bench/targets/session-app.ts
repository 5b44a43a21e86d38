import { RedisStore } from 'connect-redis';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { lixSession } from 'lix-cache-session/express';
import { createClient } from 'redis';

/**
 * One Express app, five ways to know who is asking. MODE picks:
 * - none: no sessions at all (the framework's ceiling)
 * - lix: lix-cache-session on LIX_CACHE_URL (a Lix server, or redis:// for the Redis engine in-process);
 *   NEAR_CACHE=true gives its client a near cache (sessions read in-process, touches coalesced)
 * - express-session-memory: express-session with its MemoryStore
 * - express-session-redis: express-session with connect-redis on REDIS_URL
 * POST /login starts a session; GET /api/profile answers from it; POST /logout ends it.
 * GET /bench/near-stats answers the near cache's counters (null without one).
 */
const mode = process.env.MODE ?? 'none';
const user = { userId: 'user-1', username: 'alice', email: 'alice@example.com' };
const app = express();

// express-session and lix-cache-session both declare `req.session`; a real app
// uses one of them, this file hosts both, so each side reads the request its own way.
type ExpressSessionRequest = { session: session.Session & Record<string, unknown> };
type LixRequest = { session?: Record<string, unknown>; login(user: object): Promise<unknown>; logout(): Promise<void> };
app.disable('x-powered-by');
app.disable('etag');

interface SessionLayer {
  middleware?: RequestHandler;
  login: RequestHandler;
  logout: RequestHandler;
  profile: RequestHandler;
  nearStats?: () => unknown;
}

async function sessionLayer(): Promise<SessionLayer> {
  const fromExpressSession: RequestHandler = (req, res) => {
    const data = (req as unknown as ExpressSessionRequest).session;
    if (!data.userId) return void res.status(401).json({ error: 'Not authenticated' });
    res.json({ userId: data.userId, username: data.username, email: data.email });
  };
  const loginExpressSession: RequestHandler = (req, res, next) => {
    const request = req as unknown as ExpressSessionRequest;
    request.session.regenerate((error: unknown) => {
      if (error) return next(error);
      Object.assign(request.session, user);
      res.json({ message: 'Login successful' });
    });
  };
  const logoutExpressSession: RequestHandler = (req, res, next) => {
    (req as unknown as ExpressSessionRequest).session.destroy((error: unknown) => (error ? next(error) : res.json({ message: 'Logout successful' })));
  };
  const expressSession = (store?: session.Store) =>
    session({ secret: 'bench-secret', resave: false, saveUninitialized: false, store, cookie: { secure: false, httpOnly: true, maxAge: 3_600_000 } });

  switch (mode) {
    case 'none':
      return { login: (_req, res) => void res.json({ message: 'no sessions' }), logout: (_req, res) => void res.json({ message: 'no sessions' }), profile: (_req, res) => void res.json(user) };
    case 'lix': {
      const cache = new LixCache({ url: process.env.LIX_CACHE_URL, nearCache: process.env.NEAR_CACHE === 'true' });
      const store = new SessionStore({ cache, ttl: 3600 });
      return {
        nearStats: () => cache.nearCacheStats() ?? null,
        middleware: lixSession({ store, cookie: { secure: false } }),
        login: async (req, res) => {
          await (req as unknown as LixRequest).login(user);
          res.json({ message: 'Login successful' });
        },
        logout: async (req, res) => {
          await (req as unknown as LixRequest).logout();
          res.json({ message: 'Logout successful' });
        },
        profile: (req, res) => {
          const data = (req as unknown as LixRequest).session;
          if (!data) return void res.status(401).json({ error: 'Not authenticated' });
          res.json({ userId: data.userId, username: data.username, email: data.email });
        },
      };
    }
    case 'express-session-memory':
      return { middleware: expressSession(), login: loginExpressSession, logout: logoutExpressSession, profile: fromExpressSession };
    case 'express-session-redis': {
      const client = createClient({ url: process.env.REDIS_URL });
      await client.connect();
      return { middleware: expressSession(new RedisStore({ client })), login: loginExpressSession, logout: logoutExpressSession, profile: fromExpressSession };
    }
    default:
      throw new Error(`Unknown MODE ${mode}: use none, lix, express-session-memory or express-session-redis.`);
  }
}

const layer = await sessionLayer();
if (layer.middleware) app.use(layer.middleware);
app.post('/login', layer.login);
app.post('/logout', layer.logout);
app.get('/api/profile', layer.profile);
app.get('/', (_req, res) => void res.json({ mode }));
app.get('/bench/near-stats', (_req, res) => void res.json(layer.nearStats?.() ?? null));

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
server.keepAliveTimeout = 72_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
