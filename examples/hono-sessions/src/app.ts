import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { csrfProtection, isCacheUnavailable, lixSession, login, logout, logoutAll, type LixSessionEnv, type TrustProxy } from 'lix-cache-session/hono';
import { devicesJson, rememberedUser, sessionDataOf, type AppSessionData, type AppSessionStore } from 'lix-example-shared/sessions';
import { validateCredentials } from 'lix-example-shared/users';

export type { AppSessionData };

/** The app's Hono environment: `c.get('session')` holds this app's sessions. */
export type AppEnv = LixSessionEnv<AppSessionData>;

export interface AppOptions {
  sessions: AppSessionStore;
  /** Secure cookies (HTTPS only). Off for plain-HTTP development and tests. */
  secureCookies: boolean;
  /** The peer's address, for the device list and IP binding (on Node: getConnInfo; see README). */
  clientIp?: (c: Context) => string | undefined;
  /** Proxies to trust for X-Forwarded-For, as Express's `trust proxy` (see README). */
  trustProxy?: TrustProxy;
  /** Demo knob: ms the preference and cart routes wait before changing the session, to show parallel writes both persist. */
  writeDelayMs?: number;
}


/** The JSON body as an object; `{}` when there is none, undefined when it is not valid JSON. */
async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) return {};
  try {
    const body: unknown = await c.req.json();
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The session app on Hono and lix-cache-session. */
export function createApp({ sessions, secureCookies, clientIp, trustProxy, writeDelayMs = 0 }: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(
    lixSession({
      store: sessions,
      cookie: { secure: secureCookies, sameSite: 'lax' },
      // Visitors get a cart and a theme before they sign in; the cart comes along at login.
      guest: { keep: ['cart'] },
      rememberMe: {
        loadUser: rememberedUser,
      },
      clientIp,
      trustProxy,
    }),
  );
  // Unsafe methods with a session (or guest session) need its CSRF token; login with none passes.
  app.use(csrfProtection());

  // Routes behind it see a signed-in session (c.get('session')!), others get a 401.
  const signedIn = createMiddleware<AppEnv>(async (c, next) => {
    if (!c.get('session')) return c.json({ error: 'Not authenticated' }, 401);
    await next();
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.post('/api/login', async (c) => {
    const body = await jsonBody(c);
    if (!body) return c.json({ error: 'Invalid JSON body' }, 400);
    const { username, password, rememberMe, deviceName } = body;
    const user = await validateCredentials(username, password);
    if (!user) return c.json({ error: 'Invalid credentials' }, 401);
    // A new session id at every login: no session fixation.
    const session = await login(c, sessionDataOf(user), {
      rememberMe: rememberMe === true,
      device: typeof deviceName === 'string' ? { name: deviceName.slice(0, 100) } : undefined,
    });
    return c.json({ message: 'Login successful', csrfToken: session.csrfToken });
  });

  app.post('/api/logout', async (c) => {
    await logout(c);
    return c.json({ message: 'Logout successful' });
  });

  app.get('/api/profile', signedIn, (c) => {
    const session = c.get('session')!;
    return c.json({ userId: session.userId, username: session.username, email: session.email, roles: session.roles });
  });

  /** The token a client sends back as x-csrf-token (login returns it too). */
  app.get('/api/csrf-token', (c) => {
    const holder = c.get('session') ?? c.get('guest');
    if (!holder) return c.json({ error: 'Not authenticated' }, 401);
    return c.json({ csrfToken: holder.csrfToken });
  });

  // The cart and the theme: the signed-in user's, else the visitor's guest session.
  app.get('/api/cart', (c) => {
    const holder = c.get('session') ?? c.get('guest');
    return c.json({ cart: holder?.cart ?? [] });
  });

  app.post('/api/cart', async (c) => {
    const item = (await jsonBody(c))?.item;
    if (typeof item !== 'string' || item === '') return c.json({ error: 'item must be a non-empty string' }, 400);
    const holder = c.get('session') ?? c.get('guest');
    if (!holder) return c.json({ error: 'Not authenticated' }, 401);
    if (writeDelayMs) await delay(writeDelayMs);
    // Assigned, not pushed: a guest session is written when a field is set.
    holder.cart = [...(holder.cart ?? []), item];
    return c.json({ cart: holder.cart });
  });

  app.get('/api/preferences', (c) => {
    const holder = c.get('session') ?? c.get('guest');
    return c.json({ theme: holder?.theme ?? 'light', cart: holder?.cart ?? [] });
  });

  app.put('/api/preferences/theme', async (c) => {
    const theme = (await jsonBody(c))?.theme;
    if (theme !== 'light' && theme !== 'dark') return c.json({ error: 'theme must be "light" or "dark"' }, 400);
    const holder = c.get('session') ?? c.get('guest');
    if (!holder) return c.json({ error: 'Not authenticated' }, 401);
    if (writeDelayMs) await delay(writeDelayMs);
    holder.theme = theme;
    return c.json({ theme });
  });

  app.get('/api/sessions', signedIn, async (c) => {
    const session = c.get('session')!;
    const list = await sessions.list(session.userId, { currentId: c.get('sessionId') });
    return c.json(devicesJson(list));
  });

  // Only the signed-in user's own sessions can be revoked: the handle is looked up among them.
  app.delete('/api/sessions/:id', signedIn, async (c) => {
    const session = c.get('session')!;
    const revoked = await sessions.revoke(session.userId, c.req.param('id'));
    if (!revoked) return c.json({ error: 'Session not found' }, 404);
    return c.json({ message: 'Session revoked' });
  });

  app.post('/api/logout-all', signedIn, async (c) => {
    await logoutAll(c);
    return c.json({ message: 'Logged out from all devices' });
  });

  app.get('/api/admin/sessions/metrics', signedIn, async (c) => {
    const session = c.get('session')!;
    if (!session.roles.includes('admin')) return c.json({ error: 'Admins only' }, 403);
    return c.json(await sessions.metrics());
  });

  app.notFound((c) => c.json({ error: 'Not found' }, 404));
  // A cache error answers 500 here, and lixSession() turns it into a 503 with Retry-After.
  app.onError((error, c) => {
    if (!isCacheUnavailable(error)) console.error(error);
    return c.json({ error: 'Internal error' }, 500);
  });
  return app;
}
