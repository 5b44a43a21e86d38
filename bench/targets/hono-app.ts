import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { CookieStore, Session, sessionMiddleware } from 'hono-sessions';

/**
 * One Hono app on @hono/node-server, three ways to know who is asking. MODE picks:
 * - none: no sessions at all (the framework's ceiling)
 * - lix: lix-cache-session/hono on LIX_CACHE_URL
 * - hono-sessions-cookie: hono-sessions with its CookieStore (the session sealed in the
 *   cookie itself; hono-sessions ships no Redis store)
 * POST /login starts a session; GET /api/profile answers from it.
 */
const mode = process.env.MODE ?? 'none';
const user = { userId: 'user-1', username: 'alice', email: 'alice@example.com' };

type Data = Record<string, unknown> | undefined;
type Layer = { login(c: Context): Promise<Response>; data(c: Context): Data };
type UserData = typeof user;

async function sessionLayer(app: Hono): Promise<Layer> {
  switch (mode) {
    case 'none':
      return { login: async (c) => c.json({ message: 'no sessions' }), data: () => user };
    case 'lix':
      return (await import('./lix-hono')).lixLayer(app, process.env.LIX_CACHE_URL!);
    case 'hono-sessions-cookie': {
      // autoExtendExpiration (the default) re-seals the cookie with a later expiry on every
      // request: the sliding session.
      app.use(
        '*',
        sessionMiddleware({
          store: new CookieStore(),
          encryptionKey: 'bench-secret-bench-secret-bench-secret',
          expireAfterSeconds: 3600,
          autoExtendExpiration: true,
          cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true },
        }),
      );
      const session = (c: Context) => c.get('session' as never) as Session<UserData>;
      return {
        login: async (c) => {
          const s = session(c);
          for (const [key, value] of Object.entries(user)) s.set(key as keyof UserData, value);
          return c.json({ message: 'Login successful' });
        },
        data: (c) => {
          const s = session(c);
          const userId = s.get('userId');
          return userId ? { userId, username: s.get('username'), email: s.get('email') } : undefined;
        },
      };
    }
    default:
      throw new Error(`Unknown MODE ${mode}: use none, lix or hono-sessions-cookie.`);
  }
}

const app = new Hono();
const layer = await sessionLayer(app);
app.post('/login', (c) => layer.login(c));
app.get('/api/profile', (c) => {
  const data = layer.data(c);
  if (!data) return c.json({ error: 'Not authenticated' }, 401);
  return c.json({ userId: data.userId, username: data.username, email: data.email });
});
app.get('/', (c) => c.json({ mode }));

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' });
(server as import('node:http').Server).keepAliveTimeout = 72_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
