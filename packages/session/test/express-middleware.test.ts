import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore, type SessionStoreOptions } from 'lix-cache-session';
import { csrfProtection, lixSession, sessionErrorHandler, type LixSessionOptions } from 'lix-cache-session/express';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { freePort } from '../../../test/helpers/free-port';
import { startServer } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

// The middleware in-process, over real HTTP (Node's fetch against app.listen).
const servers: Server[] = [];
let counter = 0;

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

// req.session is typed app-wide (Register); in this repo the example app registers its own
// data shape, so these library tests read and write sessions as plain records.
type AnySession = Record<string, unknown> & { userId: string; csrfToken: string };
const sessionOf = (req: express.Request) => req.session as unknown as AnySession | undefined;
const login = (req: express.Request, user: Record<string, unknown> & { userId: string }, options?: { rememberMe?: boolean }) =>
  req.login(user as never, options) as unknown as Promise<AnySession>;

function memoryStore(options: SessionStoreOptions = {}): SessionStore {
  return new SessionStore({ cache: `memory://middleware-${++counter}`, ...options });
}

async function listen(app: Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A small app: login, a field-setting route and a session echo. */
function appWith(options: LixSessionOptions, configure?: (app: Express) => void): Express {
  const app = express();
  app.use(express.json());
  configure?.(app);
  app.use(lixSession(options));
  app.post('/login', async (req, res) => {
    const session = await login(req, { userId: String(req.body.userId ?? 'user-1'), name: 'Alice' }, { rememberMe: req.body.rememberMe === true });
    res.json({ csrfToken: session.csrfToken });
  });
  app.get('/me', (req, res) => {
    if (!req.session) return void res.status(401).json({ error: 'Not authenticated' });
    res.json({ session: sessionOf(req), sessionId: req.sessionId });
  });
  app.post('/cart', (req, res) => {
    const session = sessionOf(req)!;
    if (!session.cart) session.cart = []; // assigned: written as a whole
    (session.cart as string[]).push(String(req.body.item)); // later requests change it in place
    res.json({ ok: true });
  });
  app.post('/forget', (req, res) => {
    delete sessionOf(req)!.name;
    res.json({ ok: true });
  });
  app.post('/tamper', (req, res) => {
    sessionOf(req)!.userId = 'admin';
    res.json({ ok: true });
  });
  app.post('/logout', async (req, res) => {
    await req.logout();
    res.json({ ok: true });
  });
  app.get('/sessions', async (req, res) => {
    res.json(await options.store.list(sessionOf(req)!.userId, { currentId: req.sessionId }));
  });
  app.use(sessionErrorHandler());
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: error.message });
  });
  return app;
}

describe('cookies', () => {
  it('are HttpOnly, Secure, SameSite=Lax, Path=/ and __Host- prefixed by default, Max-Age from the store', async () => {
    const url = await listen(appWith({ store: memoryStore({ absoluteTimeout: 7200 }) }));
    const client = new CookieClient(url);
    const login = await client.post('/login', {});
    const cookie = cookieAttributes(login.setCookies, '__Host-lix.sid')!;
    expect(cookie).toMatchObject({ httponly: true, secure: true, samesite: 'Lax', path: '/', 'max-age': '7200' });
    expect(cookie.domain).toBeUndefined();
    expect((await client.get('/me')).status).toBe(200);
  });

  it('drop the __Host- prefix and Secure when secure is false (plain-HTTP development)', async () => {
    const url = await listen(appWith({ store: memoryStore({ ttl: 600, absoluteTimeout: false }), cookie: { secure: false, sameSite: 'strict' } }));
    const login = await new CookieClient(url).post('/login', {});
    const cookie = cookieAttributes(login.setCookies, 'lix.sid')!;
    expect(cookie).toMatchObject({ httponly: true, samesite: 'Strict', 'max-age': '600' });
    expect(cookie.secure).toBeUndefined();
  });

  it('refuse settings browsers would drop, and a missing store, with clear errors', () => {
    const store = memoryStore();
    expect(() => lixSession({ store, cookie: { name: '__Host-sid', secure: false as never } })).toThrow(/__Host- prefix, so it must be secure/);
    expect(() => lixSession({ store, cookie: { name: '__Host-sid', path: '/app' as never } })).toThrow(/on path '\/'/);
    expect(() => lixSession({ store, cookie: { name: '__Secure-sid', secure: false as never } })).toThrow(/__Secure- prefix/);
    expect(() => lixSession({ store, cookie: { sameSite: 'none', secure: false } })).toThrow(/needs secure: true/);
    expect(() => lixSession({} as never)).toThrow(/needs a SessionStore/);
    expect(() => lixSession({ store, rememberMe: {} as never })).toThrow(/loadUser/);
  });
});

describe('client address', () => {
  it('ignores X-Forwarded-For unless the proxy is trusted', async () => {
    const store = memoryStore();
    const plain = await listen(appWith({ store, cookie: { secure: false } }));
    const client = new CookieClient(plain);
    await client.post('/login', { userId: 'ip-1' }, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect((await client.get('/sessions')).body[0].lastIP).toMatch(/127\.0\.0\.1$/);

    const trusted = await listen(appWith({ store, cookie: { secure: false }, trustProxy: 'loopback' }));
    const proxied = new CookieClient(trusted);
    await proxied.post('/login', { userId: 'ip-2' }, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect((await proxied.get('/sessions', { headers: { 'x-forwarded-for': '203.0.113.9' } })).body[0].lastIP).toBe('203.0.113.9');

    // Express's own `trust proxy` setting is honoured when trustProxy is not given.
    const viaExpress = await listen(appWith({ store, cookie: { secure: false } }, (app) => app.set('trust proxy', 1)));
    const hop = new CookieClient(viaExpress);
    await hop.post('/login', { userId: 'ip-3' }, { headers: { 'x-forwarded-for': '198.51.100.4' } });
    expect((await hop.get('/sessions', { headers: { 'x-forwarded-for': '198.51.100.4' } })).body[0].lastIP).toBe('198.51.100.4');
  });
});

describe('session changes', () => {
  it('writes assigned, in-place changed and deleted fields; refuses managed ones', async () => {
    const url = await listen(appWith({ store: memoryStore(), cookie: { secure: false } }));
    const client = new CookieClient(url);
    await client.post('/login', {});
    await client.post('/cart', { item: 'book' });
    await client.post('/cart', { item: 'pen' });
    expect((await client.get('/me')).body.session.cart).toEqual(['book', 'pen']);
    await client.post('/forget');
    expect((await client.get('/me')).body.session.name).toBeNull();
    const tamper = await client.post('/tamper');
    expect(tamper.status).toBe(500);
    expect(tamper.body.error).toMatch(/userId is managed by lix-cache-session/);
    expect((await client.get('/me')).body.session.userId).toBe('user-1');
  });

  it('exposes req.sessionId and a fresh id after login; logout clears the cookie', async () => {
    const url = await listen(appWith({ store: memoryStore(), cookie: { secure: false } }));
    const client = new CookieClient(url);
    await client.post('/login', {});
    const first = (await client.get('/me')).body.sessionId;
    expect(first).toBe(client.cookies.get('lix.sid'));
    await client.post('/login', {});
    expect(client.cookies.get('lix.sid')).not.toBe(first);
    const logout = await client.post('/logout');
    expect(cookieAttributes(logout.setCookies, 'lix.sid')!['max-age']).toBe('0');
    expect((await client.get('/me')).status).toBe(401);
  });
});

describe('remember-me', () => {
  it('needs loadUser to be configured before login can remember', async () => {
    const url = await listen(appWith({ store: memoryStore(), cookie: { secure: false } }));
    const response = await new CookieClient(url).post('/login', { rememberMe: true });
    expect(response.status).toBe(500);
    expect(response.body.error).toMatch(/needs the session middleware's rememberMe: \{ loadUser \} option/);
  });

  it('refuses a remembered user that loadUser no longer knows, clearing and revoking the token', async () => {
    let known = true;
    const store = memoryStore();
    const url = await listen(appWith({ store, cookie: { secure: false }, rememberMe: { loadUser: (userId) => (known ? { userId, name: 'Alice' } : null) } }));
    const client = new CookieClient(url);
    await client.post('/login', { rememberMe: true });
    const token = client.cookies.get('lix.remember')!;
    client.cookies.delete('lix.sid');
    expect((await client.get('/me')).status).toBe(200);
    client.cookies.delete('lix.sid');
    known = false;
    const refused = await client.get('/me');
    expect(refused.status).toBe(401);
    expect(client.cookies.has('lix.remember')).toBe(false);
    expect((await store.useRememberToken(token)).status).not.toBe('valid');
  });
});

describe('session caps', () => {
  it('exclusive: of 10 browsers logging in at once (with remember-me), exactly one stays signed in', async () => {
    const cacheServer = await startServer();
    const store = new SessionStore({ cache: cacheServer.url, exclusive: true });
    try {
      const url = await listen(appWith({ store, cookie: { secure: false }, rememberMe: { loadUser: (userId) => ({ userId, name: 'Alice' }) } }));
      for (let round = 0; round < 3; round++) {
        const userId = `racer-${round}`;
        const browsers = Array.from({ length: 10 }, () => new CookieClient(url));
        const logins = await Promise.all(browsers.map((browser) => browser.post('/login', { userId, rememberMe: true })));
        expect(logins.map((response) => response.status)).toEqual(Array(10).fill(200));
        // One after another: a signed-out browser whose remember-me cookie still worked would
        // sign in again here (and sign the others out), so this counts both kinds of cookie.
        let signedIn = 0;
        for (const browser of browsers) if ((await browser.get('/me')).status === 200) signedIn++;
        expect(signedIn).toBe(1);
        expect(await store.list(userId)).toHaveLength(1);
      }
    } finally {
      await store.close();
      await cacheServer.stop();
    }
  }, 60_000);
});

describe('CSRF', () => {
  it('takes a custom header name and exempts safe methods', async () => {
    const store = memoryStore();
    const app = express();
    app.use(express.json());
    app.use(lixSession({ store, cookie: { secure: false } }));
    app.use(csrfProtection({ header: 'X-XSRF-Token' }));
    app.post('/login', async (req, res) => res.json({ token: (await login(req, { userId: 'u' })).csrfToken }));
    app.all('/thing', (_req, res) => res.json({ ok: true }));
    const client = new CookieClient(await listen(app));
    const { body } = await client.post('/login', {});
    expect((await client.get('/thing')).status).toBe(200);
    expect((await client.request('HEAD', '/thing')).status).toBe(200);
    expect((await client.post('/thing', {}, { csrf: false })).status).toBe(403);
    expect((await client.post('/thing', {}, { csrf: false, headers: { 'x-xsrf-token': body.token } })).status).toBe(200);
    expect((await client.request('DELETE', '/thing', { csrf: false, headers: { 'x-xsrf-token': 'wrong' } })).status).toBe(403);
  });
});

describe('when the cache is unreachable', () => {
  it('answers 503 to requests with a session cookie and to login, and passes requests without one', async () => {
    const port = await freePort();
    const store = new SessionStore({ cache: new LixCache({ url: `http://127.0.0.1:${port}`, maxRetries: 0, timeout: 1000 }) });
    const loadErrors: [unknown, string][] = [];
    const client = new CookieClient(await listen(appWith({ store, cookie: { secure: false }, onLoadError: (error, req) => loadErrors.push([error, req.path]) })));
    expect((await client.get('/me')).status).toBe(401);
    const login = await client.post('/login', {});
    expect(login.status).toBe(503);
    expect(login.body.error).toBe('Session store unavailable');
    client.cookies.set('lix.sid', 'A'.repeat(43));
    const me = await client.get('/me');
    expect(me.status).toBe(503);
    expect(me.body.message).toMatch(/unreachable/);
    // Only the load that failed is reported (the login failed in its route), with its cause.
    expect(loadErrors).toHaveLength(1);
    expect(loadErrors[0]![1]).toBe('/me');
    expect(String((loadErrors[0]![0] as Error).cause)).toMatch(/ECONNREFUSED/);
    await store.close();
  });

  it('answers 503, not 200, when a session change cannot be saved because the cache went down mid-request', async () => {
    const server = await startServer();
    let release!: () => void;
    let entered = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = new SessionStore({ cache: new LixCache({ url: server.url, maxRetries: 0, timeout: 1000 }) });
    const slowApp = express();
    slowApp.use(lixSession({ store, cookie: { secure: false }, onSaveError: () => {} }));
    slowApp.post('/login', async (req, res) => res.json({ token: (await login(req, { userId: 'u' })).csrfToken }));
    slowApp.post('/slow-write', async (req, res) => {
      entered = true;
      await gate;
      sessionOf(req)!.theme = 'dark';
      res.json({ ok: true });
    });
    const client = new CookieClient(await listen(slowApp));
    expect((await client.post('/login', {})).status).toBe(200);
    const pending = client.post('/slow-write', {});
    await waitFor(() => entered, { what: 'the route to start' });
    await server.stop();
    release();
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.body.error).toBe('Session store unavailable');
    await store.close();
  });
});
