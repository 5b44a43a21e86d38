import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { DeviceSession } from 'lix-cache-session';
import { sessionDataOf, type AppSessionStore } from 'lix-example-shared/sessions';
import { validateCredentials } from 'lix-example-shared/users';
import { devicesPage, loginPage, profilePage } from './views';

/*
 * The app's HTML pages: sign in, the profile, the device list with revoke, log out and log
 * out everywhere. Classic forms (POST, then a 303 redirect to a page), no client JavaScript.
 * Each unsafe form carries the session's CSRF token as a hidden `csrfToken` field, which
 * `csrfProtection()` reads from the urlencoded body.
 */

/**
 * Where the pages' forms post: the app parses urlencoded bodies under these paths only
 * (before `csrfProtection()` looks for the token), so the JSON API under /api stays JSON-only.
 */
export const FORM_PATHS = ['/login', '/logout', '/logout-all', '/devices'];

const STATIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

/**
 * The pages' security headers, set by helmet rather than by hand: one maintained library
 * that spells them right, checks the CSP's syntax and adds the companions (X-Frame-Options
 * for old browsers, Cross-Origin-Opener-Policy, ...). The CSP admits this origin's
 * stylesheet, images and form targets and nothing else: no script at all, no framing.
 * HSTS only when cookies are secure, that is when the app is served over HTTPS.
 */
function pageHeaders(https: boolean) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' }, // as frame-ancestors 'none', for browsers without CSP
    strictTransportSecurity: https ? { maxAge: 365 * 24 * 3600 } : false,
  });
}

/** The stylesheet and icon, with the pages' headers; mount before the session middleware (they need no session). */
export function staticFiles(https: boolean): express.Router {
  const router = express.Router();
  router.use('/static', pageHeaders(https), express.static(STATIC_DIR, { index: false, maxAge: '1h' }));
  return router;
}

/** What `?notice=` may show: fixed messages only, never text from the URL. */
const NOTICES: Record<string, string> = {
  'logged-out': 'You are logged out.',
  'logged-out-all': 'You are logged out on every device.',
  revoked: 'Session revoked: that device is signed out.',
  'not-found': 'That session had already ended.',
};

function noticeOf(req: Request): string | undefined {
  const key = req.query.notice;
  return typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key] : undefined;
}

/** The token this visitor's forms carry: the session's, else the guest's. */
function csrfTokenOf(req: Request): string | undefined {
  return (req.session ?? req.guest)?.csrfToken;
}

function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/**
 * Login CSRF: a form on another site must not sign this browser in (as someone else);
 * there is no session yet, so no token to check. Browsers say where a request comes from
 * in Sec-Fetch-Site; clients that send none (curl, old browsers) pass.
 */
function crossSite(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** Pages hold personal data and a CSRF token: never stored by a cache or the back button. */
function send(res: Response, status: number, page: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('html').send(page);
}

function signedIn(req: Request, res: Response, next: NextFunction): void {
  if (!req.session) return void res.redirect(303, '/login');
  next();
}

/** This device first, then the most recently used. */
function byRecentUse(a: DeviceSession, b: DeviceSession): number {
  return Number(b.current) - Number(a.current) || b.lastAccess - a.lastAccess;
}

export interface PagesOptions {
  sessions: AppSessionStore;
  /** The app is served over HTTPS (secure cookies): send HSTS too. */
  https: boolean;
}

/** The pages' router; mount it after `lixSession()` and `csrfProtection()`. */
export function pagesRouter({ sessions, https }: PagesOptions): express.Router {
  const router = express.Router();
  const headers = pageHeaders(https);

  router.get('/', headers, (req, res) => {
    res.redirect(303, req.session ? '/profile' : '/login');
  });

  router
    .route('/login')
    .all(headers)
    .get((req, res) => {
      if (req.session) return void res.redirect(303, '/profile');
      send(res, 200, loginPage({ csrfToken: csrfTokenOf(req), notice: noticeOf(req) }));
    })
    .post(async (req, res) => {
      const form = { username: field(req, 'username'), deviceName: field(req, 'deviceName').trim(), rememberMe: field(req, 'rememberMe') === 'on' };
      if (crossSite(req)) return send(res, 403, loginPage({ ...form, csrfToken: csrfTokenOf(req), error: 'That sign-in form came from another site. Sign in here instead.' }));
      const user = await validateCredentials(form.username, field(req, 'password'));
      if (!user) return send(res, 401, loginPage({ ...form, csrfToken: csrfTokenOf(req), error: 'Wrong username or password.' }));
      // As POST /api/login: a new session id at every login (no session fixation).
      await req.login(sessionDataOf(user), {
        rememberMe: form.rememberMe,
        device: form.deviceName ? { name: form.deviceName.slice(0, 100) } : undefined,
      });
      res.redirect(303, '/profile');
    });

  router.get('/profile', headers, signedIn, (req, res) => {
    send(res, 200, profilePage(req.session!));
  });

  router.get('/devices', headers, signedIn, async (req, res) => {
    const session = req.session!;
    const list = await sessions.list(session.userId, { currentId: req.sessionId });
    send(res, 200, devicesPage({ username: session.username, csrfToken: session.csrfToken, devices: list.sort(byRecentUse), notice: noticeOf(req) }));
  });

  // As DELETE /api/sessions/:id: the handle is looked up among the signed-in user's own sessions only.
  router.post('/devices/:id/revoke', headers, signedIn, async (req, res) => {
    const revoked = await sessions.revoke(req.session!.userId, String(req.params.id));
    res.redirect(303, `/devices?notice=${revoked ? 'revoked' : 'not-found'}`);
  });

  router.post('/logout', headers, async (req, res) => {
    await req.logout();
    res.redirect(303, '/login?notice=logged-out');
  });

  router.post('/logout-all', headers, signedIn, async (req, res) => {
    await req.logoutAll();
    res.redirect(303, '/login?notice=logged-out-all');
  });

  return router;
}
