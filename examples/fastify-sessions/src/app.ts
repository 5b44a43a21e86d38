import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { TrustProxy } from 'lix-cache-session';
import { csrfProtection, lixSession, sessionErrorHandler } from 'lix-cache-session/fastify';
import { devicesJson, rememberedUser, sessionDataOf, type AppSessionStore } from 'lix-example-shared/sessions';
import { validateCredentials } from 'lix-example-shared/users';

// Types request.session (and request.guest, request.login) as this app's sessions.
declare module 'lix-cache-session/fastify' {
  interface Register {
    store: AppSessionStore;
  }
}

export interface AppOptions {
  sessions: AppSessionStore;
  /** Secure cookies (HTTPS only). Off for plain-HTTP development and tests. */
  secureCookies: boolean;
  /** Proxies to trust for the client IP, as Express's `trust proxy` (see README). */
  trustProxy?: TrustProxy;
  /** Demo knob: ms the preference and cart routes wait before changing the session, to show parallel writes both persist. */
  writeDelayMs?: number;
  /** Fastify's logger (off by default). */
  logger?: FastifyServerOptions['logger'];
}


/** A preHandler for the routes that need a signed-in user. */
async function requireSession(request: FastifyRequest, reply: FastifyReply) {
  if (!request.session) return reply.code(401).send({ error: 'Not authenticated' });
}

/** The signed-in session, else the guest's data: where the cart and theme live. */
function visitorOf(request: FastifyRequest) {
  return request.session ?? request.guest;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The session example app on Fastify, with lix-cache-session/fastify. */
export async function createApp({ sessions, secureCookies, trustProxy, writeDelayMs = 0, logger = false }: AppOptions): Promise<FastifyInstance> {
  // Fastify takes Express's values, but types a hop count as a function.
  const app = Fastify({ logger, trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : (trustProxy ?? false) });

  await app.register(lixSession, {
    store: sessions,
    cookie: { secure: secureCookies, sameSite: 'lax' },
    rememberMe: {
      loadUser: rememberedUser,
    },
    // Visitors get a cart before they sign in; it moves into the session at login (the theme does not).
    guest: { keep: ['cart'] },
  });
  // Unsafe methods with a session (or a stored guest session) need its CSRF token; login without one passes.
  app.addHook('preHandler', csrfProtection());

  app.get('/health', async () => ({ status: 'ok' }));

  app.post('/api/login', async (request, reply) => {
    const { username, password, rememberMe, deviceName } = (request.body ?? {}) as Record<string, unknown>;
    const user = await validateCredentials(username, password);
    if (!user) return reply.code(401).send({ error: 'Invalid credentials' });
    // A new session id at every login: no session fixation.
    const session = await request.login(sessionDataOf(user), {
      rememberMe: rememberMe === true,
      device: typeof deviceName === 'string' ? { name: deviceName.slice(0, 100) } : undefined,
    });
    return { message: 'Login successful', csrfToken: session.csrfToken };
  });

  app.post('/api/logout', async (request) => {
    await request.logout();
    return { message: 'Logout successful' };
  });

  app.get('/api/profile', { preHandler: requireSession }, async (request) => {
    const session = request.session!;
    return { userId: session.userId, username: session.username, email: session.email, roles: session.roles };
  });

  /** The token a client sends back as x-csrf-token (also returned by login): the session's or the guest's. */
  app.get('/api/csrf-token', async (request, reply) => {
    const csrfToken = visitorOf(request)?.csrfToken;
    if (!csrfToken) return reply.code(401).send({ error: 'Not authenticated' });
    return { csrfToken };
  });

  app.get('/api/cart', async (request) => ({ cart: visitorOf(request)?.cart ?? [] }));

  app.post('/api/cart', async (request, reply) => {
    const item = (request.body as { item?: unknown } | undefined)?.item;
    if (typeof item !== 'string' || item === '' || item.length > 200) return reply.code(400).send({ error: 'item must be a non-empty string (at most 200 characters)' });
    const visitor = visitorOf(request);
    if (!visitor) return reply.code(401).send({ error: 'Not authenticated' });
    if (writeDelayMs) await delay(writeDelayMs);
    // A guest's first write stores the guest session and sets its cookie.
    visitor.cart = [...(visitor.cart ?? []), item];
    return { cart: visitor.cart };
  });

  app.get('/api/preferences', async (request) => {
    const visitor = visitorOf(request);
    return { theme: visitor?.theme ?? 'light', cart: visitor?.cart ?? [] };
  });

  app.put('/api/preferences/theme', async (request, reply) => {
    const theme = (request.body as { theme?: unknown } | undefined)?.theme;
    if (theme !== 'light' && theme !== 'dark') return reply.code(400).send({ error: 'theme must be "light" or "dark"' });
    const visitor = visitorOf(request);
    if (!visitor) return reply.code(401).send({ error: 'Not authenticated' });
    if (writeDelayMs) await delay(writeDelayMs);
    visitor.theme = theme;
    return { theme };
  });

  app.get('/api/sessions', { preHandler: requireSession }, async (request) => {
    const list = await sessions.list(request.session!.userId, { currentId: request.sessionId });
    return devicesJson(list);
  });

  // Only the signed-in user's own sessions can be revoked: the handle is looked up among them.
  app.delete<{ Params: { sessionId: string } }>('/api/sessions/:sessionId', { preHandler: requireSession }, async (request, reply) => {
    const revoked = await sessions.revoke(request.session!.userId, request.params.sessionId);
    if (!revoked) return reply.code(404).send({ error: 'Session not found' });
    return { message: 'Session revoked' };
  });

  app.post('/api/logout-all', { preHandler: requireSession }, async (request) => {
    await request.logoutAll();
    return { message: 'Logged out from all devices' };
  });

  app.get('/api/admin/sessions/metrics', { preHandler: requireSession }, async (request, reply) => {
    if (!request.session!.roles.includes('admin')) return reply.code(403).send({ error: 'Admins only' });
    return sessions.metrics();
  });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'Not found' }));
  // Cache unreachable during a route (login, list, ...): 503 with a clear message. Client
  // errors (bad JSON, too large) keep their status; anything else is a plain 500.
  app.setErrorHandler(
    sessionErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) return reply.code(status).send({ error: error.message });
      request.log.error(error);
      if (!logger) console.error(error);
      return reply.code(500).send({ error: 'Internal error' });
    }),
  );
  return app;
}
