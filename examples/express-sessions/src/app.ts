import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { csrfProtection, lixSession, sessionErrorHandler, type TrustProxy } from 'lix-cache-session/express';
import { devicesJson, rememberedUser, sessionDataOf, type AppSessionStore } from 'lix-example-shared/sessions';
import { validateCredentials } from 'lix-example-shared/users';
import { keepError, keepLoadError, keepSaveError, logServerErrors } from './error-log';
import { FORM_PATHS, pagesRouter, staticFiles } from './pages';

// Types req.session as this app's sessions.
declare module 'lix-cache-session/express' {
  interface Register {
    store: AppSessionStore;
  }
}

export interface AppOptions {
  sessions: AppSessionStore;
  /** Secure cookies (HTTPS only). Off for plain-HTTP development and tests. */
  secureCookies: boolean;
  /** Express's `trust proxy` for the client IP (see README). */
  trustProxy?: TrustProxy;
  /** Demo knob: ms the preference and cart routes wait before changing the session, to show parallel writes both persist. */
  writeDelayMs?: number;
  /** Where responses with status >= 500 are logged, with their error. */
  logger: Logger;
}


function requireSession(req: Request, res: Response, next: NextFunction): void {
  if (!req.session) return void res.status(401).json({ error: 'Not authenticated' });
  next();
}

/** The signed-in session, else the guest's (the cart and theme routes serve both). */
function visitorOf(req: Request) {
  return req.session ?? req.guest;
}

function requireVisitor(req: Request, res: Response, next: NextFunction): void {
  if (!visitorOf(req)) return void res.status(401).json({ error: 'Not authenticated' });
  next();
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The seed's Express app, on lix-cache-session. */
export function createApp({ sessions, secureCookies, trustProxy, writeDelayMs = 0, logger }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  // First, so that every 5xx is logged, lixSession's own 503 too.
  app.use(logServerErrors(logger));
  app.use(staticFiles(secureCookies));
  app.use(express.json());
  // The pages' forms (only there: the API stays JSON), parsed before csrfProtection() reads their csrfToken field.
  app.use(FORM_PATHS, express.urlencoded({ extended: false, limit: '8kb' }));
  app.use(
    lixSession({
      store: sessions,
      cookie: { secure: secureCookies, sameSite: 'lax' },
      rememberMe: {
        loadUser: rememberedUser,
      },
      // Visitors get a guest session on their first write (a cart item, a theme); at login
      // it ends, and only the cart moves into the new session.
      guest: { keep: ['cart'] },
      onSaveError: keepSaveError(logger),
      onLoadError: keepLoadError,
    }),
  );
  // Unsafe methods with a session or a saved guest session need its CSRF token; login (and a guest's first write) pass.
  app.use(csrfProtection());

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.post('/api/login', async (req, res) => {
    const { username, password, rememberMe, deviceName } = (req.body ?? {}) as Record<string, unknown>;
    const user = await validateCredentials(username, password);
    if (!user) return void res.status(401).json({ error: 'Invalid credentials' });
    // A new session id at every login: no session fixation.
    const session = await req.login(sessionDataOf(user), {
      rememberMe: rememberMe === true,
      device: typeof deviceName === 'string' ? { name: deviceName.slice(0, 100) } : undefined,
    });
    res.json({ message: 'Login successful', csrfToken: session.csrfToken });
  });

  app.post('/api/logout', async (req, res) => {
    await req.logout();
    res.json({ message: 'Logout successful' });
  });

  app.get('/api/profile', requireSession, (req, res) => {
    const session = req.session!;
    res.json({ userId: session.userId, username: session.username, email: session.email, roles: session.roles });
  });

  /** The token a client sends back as x-csrf-token (also returned by login); a guest's once its session is saved. */
  app.get('/api/csrf-token', requireVisitor, (req, res) => {
    res.json({ csrfToken: visitorOf(req)!.csrfToken });
  });

  app.get('/api/preferences', requireVisitor, (req, res) => {
    const visitor = visitorOf(req)!;
    res.json({ theme: visitor.theme ?? 'light', cart: visitor.cart ?? [] });
  });

  app.put('/api/preferences/theme', requireVisitor, async (req, res) => {
    const theme = (req.body as { theme?: unknown } | undefined)?.theme;
    if (theme !== 'light' && theme !== 'dark') return void res.status(400).json({ error: 'theme must be "light" or "dark"' });
    if (writeDelayMs) await delay(writeDelayMs);
    visitorOf(req)!.theme = theme;
    res.json({ theme });
  });

  // Reading the cart writes nothing, so a guest who only looks gets no session and no cookie.
  app.get('/api/cart', requireVisitor, (req, res) => {
    res.json({ cart: visitorOf(req)!.cart ?? [] });
  });

  app.post('/api/cart', requireVisitor, async (req, res) => {
    const item = (req.body as { item?: unknown } | undefined)?.item;
    if (typeof item !== 'string' || item === '') return void res.status(400).json({ error: 'item must be a non-empty string' });
    if (writeDelayMs) await delay(writeDelayMs);
    const visitor = visitorOf(req)!;
    visitor.cart = [...(visitor.cart ?? []), item];
    res.json({ cart: visitor.cart });
  });

  app.get('/api/sessions', requireSession, async (req, res) => {
    const list = await sessions.list(req.session!.userId, { currentId: req.sessionId });
    res.json(devicesJson(list));
  });

  // Only the signed-in user's own sessions can be revoked: the handle is looked up among them.
  app.delete('/api/sessions/:sessionId', requireSession, async (req, res) => {
    const revoked = await sessions.revoke(req.session!.userId, String(req.params.sessionId));
    if (!revoked) return void res.status(404).json({ error: 'Session not found' });
    res.json({ message: 'Session revoked' });
  });

  app.post('/api/logout-all', requireSession, async (req, res) => {
    await req.logoutAll();
    res.json({ message: 'Logged out from all devices' });
  });

  app.get('/api/admin/sessions/metrics', requireSession, async (req, res) => {
    if (!req.session!.roles.includes('admin')) return void res.status(403).json({ error: 'Admins only' });
    res.json(await sessions.metrics());
  });

  // The HTML pages (src/pages.ts): /, /login, /profile, /devices, /logout, /logout-all.
  app.use(pagesRouter({ sessions, https: secureCookies }));

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });
  // Keeps a route's error for the one line logServerErrors writes if the answer is a 5xx.
  app.use(keepError);
  // Cache unreachable during a route (login, list, ...): 503 with a clear message.
  app.use(sessionErrorHandler());
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return void res.status(status).json({ error: (error as Error).message });
    res.status(500).json({ error: 'Internal error' }); // logged, with the error, by logServerErrors
  });
  return app;
}
