import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LixValidationError } from 'lix-cache-sdk';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';

// Every snippet of the session-management guide (src/, verbatim) against a real Lix server
// process, its Express routes over real HTTP. The snippets build `new LixCache()` when their
// module loads, so LIX_CACHE_URL is set first and the modules are imported dynamically.

let server: ServerProcess;
const previousUrl = process.env.LIX_CACHE_URL;
const listening: Server[] = [];

type Snippets = Awaited<ReturnType<typeof importSnippets>>;
let seed: Snippets;

function importSnippets() {
  return Promise.all([
    import('../src/simple-session-store'),
    import('../src/express-middleware'),
    import('../src/zod-sessions'),
    import('../src/sliding-session-store'),
    import('../src/remember-me'),
    import('../src/multi-device-sessions'),
    import('../src/ip-validation'),
    import('../src/csrf-protection'),
    import('../src/concurrent-login-prevention'),
    import('../src/session-metrics'),
    import('../src/clean-up-expired-sessions'),
  ]).then(([basic, middleware, zod, sliding, rememberMe, multiDevice, ip, csrf, exclusive, metrics, cleanUp]) => ({
    basic,
    middleware,
    zod,
    sliding,
    rememberMe,
    multiDevice,
    ip,
    csrf,
    exclusive,
    metrics,
    cleanUp,
  }));
}

/** Serve `app` on a free 127.0.0.1 port; a CookieClient for it. */
async function serve(app: Express): Promise<(path?: string) => CookieClient> {
  const httpServer = createServer(app);
  listening.push(httpServer);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  return () => new CookieClient(url);
}

/**
 * The guide's Session Middleware app mounted behind a JSON body parser (the guide never adds
 * one, and its login reads req.body), then `more` apps: the middleware attaches req.session
 * for the routes the later sections add.
 */
function behindSessionMiddleware(...more: Express[]): Express {
  const outer = express();
  outer.use(express.json());
  outer.use(seed.middleware.app);
  for (const app of more) outer.use(app);
  return outer;
}

const key = (sessionId: string) => `session:${sessionId}`;

beforeAll(async () => {
  server = await startServer();
  process.env.LIX_CACHE_URL = server.url;
  seed = await importSnippets();
});

afterAll(async () => {
  for (const httpServer of listening) {
    httpServer.closeAllConnections();
    await new Promise((resolve) => httpServer.close(resolve));
  }
  await seed?.basic.cache.close();
  if (previousUrl === undefined) delete process.env.LIX_CACHE_URL;
  else process.env.LIX_CACHE_URL = previousUrl;
  await server?.stop();
});

describe('Simple Session Store', () => {
  it("the guide's usage ran at import: created, read back, deleted", async () => {
    const { cache, sessionId, session } = seed.basic;
    expect(session).toMatchObject({ userId: 'user-123', username: 'alice', email: 'alice@example.com' });
    expect(await cache.get(key(sessionId))).toBeNull();
  });

  it('create stores the session with a one-hour TTL; get reads it back and refreshes lastAccess', async () => {
    const { cache, sessions } = seed.basic;
    const id = await sessions.create('user-1', { userId: 'user-1', username: 'alice', email: 'alice@example.com' });
    const stored = await cache.getEntry<{ userId: string; createdAt: number; lastAccess: number }>(key(id));
    expect(stored?.value).toMatchObject({ userId: 'user-1', username: 'alice', email: 'alice@example.com' });
    expect(stored?.ttl).toBeGreaterThan(3500);
    expect(stored?.ttl).toBeLessThanOrEqual(3600);

    await cache.set(key(id), { ...stored!.value, lastAccess: 1000 });
    const session = await sessions.get(id);
    expect(session?.lastAccess).toBeGreaterThan(1000);
    expect((await cache.get<{ lastAccess: number }>(key(id)))?.lastAccess).toBe(session?.lastAccess);
  });

  it('refresh extends the TTL of a live session and reports a missing one', async () => {
    const { cache, sessions } = seed.basic;
    const id = await sessions.create('user-1', { userId: 'user-1', username: 'alice', email: 'alice@example.com' });
    await cache.expire(key(id), 30);
    expect(await sessions.refresh(id)).toBe(true);
    expect((await cache.getEntry(key(id)))?.ttl).toBeGreaterThan(3500);
    expect(await sessions.refresh('no-such-session')).toBe(false);
  });

  it('delete removes the session; get then answers null', async () => {
    const { cache, sessions } = seed.basic;
    const id = await sessions.create('user-1', { userId: 'user-1', username: 'alice', email: 'alice@example.com' });
    await sessions.delete(id);
    expect(await cache.get(key(id))).toBeNull();
    expect(await sessions.get(id)).toBeNull();
  });
});

describe('Express Middleware: session middleware, login, logout, profile', () => {
  let client: (path?: string) => CookieClient;
  beforeAll(async () => {
    client = await serve(behindSessionMiddleware());
  });

  it('logs in, serves the profile from the session, logs out', async () => {
    const { cache } = seed.basic;
    const alice = client();
    expect((await alice.get('/api/profile')).status).toBe(401);

    const login = await alice.post('/api/login', { username: 'alice', password: 'wonderland' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ message: 'Login successful' });
    const cookie = cookieAttributes(login.setCookies, 'sessionId');
    expect(cookie).toMatchObject({ httponly: true, secure: true, samesite: 'Strict', 'max-age': '3600' });
    const sessionId = alice.cookies.get('sessionId')!;
    expect(await cache.get(key(sessionId))).toMatchObject({ userId: 'user-alice', username: 'alice' });

    const profile = await alice.get('/api/profile');
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual({ userId: 'user-alice', username: 'alice', email: 'alice@example.com' });

    const logout = await alice.post('/api/logout');
    expect(logout.body).toEqual({ message: 'Logout successful' });
    expect(cookieAttributes(logout.setCookies, 'sessionId')).toBeDefined();
    expect(alice.cookies.has('sessionId')).toBe(false);
    expect(await cache.get(key(sessionId))).toBeNull();
    expect((await alice.get('/api/profile')).status).toBe(401);
  });

  it('answers 401 to wrong credentials and clears a cookie whose session is gone', async () => {
    const stranger = client();
    const login = await stranger.post('/api/login', { username: 'alice', password: 'wrong' });
    expect(login.status).toBe(401);
    expect(login.body).toEqual({ error: 'Invalid credentials' });
    expect(login.setCookies).toEqual([]);

    stranger.cookies.set('sessionId', 'expired-session-id');
    const profile = await stranger.get('/api/profile');
    expect(profile.status).toBe(401);
    expect(stranger.cookies.has('sessionId')).toBe(false);
  });
});

describe('Type-Safe Sessions with Zod', () => {
  it("the guide's sessions.set stored a validated session", async () => {
    const { cache } = seed.basic;
    expect(await cache.get('session:abc123')).toMatchObject({ userId: 'user-1', username: 'alice', roles: ['user', 'admin'] });
    expect(await seed.zod.sessions.get('abc123')).toMatchObject({ email: 'alice@example.com' });
  });

  it('rejects a session the schema refuses, and writes nothing', async () => {
    const { cache } = seed.basic;
    const bad = { userId: 'user-1', username: 'alice', email: 'not-an-email', roles: ['user'], createdAt: Date.now(), lastAccess: Date.now() };
    const error = await seed.zod.sessions.set('zod-bad', bad).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LixValidationError);
    expect((error as LixValidationError).issues.map((issue) => issue.path?.map(String))).toContainEqual(['email']);
    expect(await cache.get('session:zod-bad')).toBeNull();
  });
});

describe('Sliding Window Expiration', () => {
  const base = { userId: 'user-s', username: 'sam', email: 'sam@example.com', createdAt: Date.now() };

  it('extends the TTL and lastAccess of an active session', async () => {
    const { cache } = seed.basic;
    const store = new seed.sliding.SlidingSessionStore();
    await cache.set(key('sliding-active'), { ...base, lastAccess: Date.now() - 60_000 }, { ttl: 30 });
    const session = await store.get('sliding-active');
    expect(session?.userId).toBe('user-s');
    expect(session!.lastAccess).toBeGreaterThan(Date.now() - 60_000);
    const stored = await cache.getEntry<{ lastAccess: number }>(key('sliding-active'));
    expect(stored?.value.lastAccess).toBe(session!.lastAccess);
    expect(stored?.ttl).toBeGreaterThan(3500);
  });

  it('ends a session idle longer than 30 minutes', async () => {
    const { cache } = seed.basic;
    const store = new seed.sliding.SlidingSessionStore();
    await cache.set(key('sliding-idle'), { ...base, lastAccess: Date.now() - 31 * 60_000 }, { ttl: 3600 });
    expect(await store.get('sliding-idle')).toBeNull();
    expect(await cache.get(key('sliding-idle'))).toBeNull();
    expect(await store.get('no-such-session')).toBeNull();
  });
});

describe('Remember Me Feature', () => {
  let client: (path?: string) => CookieClient;
  beforeAll(async () => {
    const { app } = seed.rememberMe;
    // After the guide's auto-login middleware: shows what it attached.
    app.get('/api/whoami', (req, res) => {
      res.json({ session: req.session ?? null });
    });
    client = await serve(app);
  });

  it('creates a 30-day token that validates to its user', async () => {
    const { cache } = seed.basic;
    const { createRememberMeToken, validateRememberMeToken } = seed.rememberMe;
    const token = await createRememberMeToken('user-alice');
    const stored = await cache.getEntry(`remember:${token}`);
    expect(stored?.value).toMatchObject({ userId: 'user-alice' });
    expect(stored?.ttl).toBeGreaterThan(2592000 - 100);
    expect(await validateRememberMeToken(token)).toBe('user-alice');
    expect(await validateRememberMeToken('no-such-token')).toBeNull();
  });

  it('refuses and deletes a token older than 30 days', async () => {
    const { cache } = seed.basic;
    await cache.set('remember:old-token', { userId: 'user-alice', createdAt: Date.now() - 2592000000 - 1000 });
    expect(await seed.rememberMe.validateRememberMeToken('old-token')).toBeNull();
    expect(await cache.get('remember:old-token')).toBeNull();
  });

  it('login with rememberMe sets both cookies; without it, only the session', async () => {
    const { cache } = seed.basic;
    const alice = client();
    const login = await alice.post('/api/login', { username: 'alice', password: 'wonderland', rememberMe: true });
    expect(login.status).toBe(200);
    expect(cookieAttributes(login.setCookies, 'rememberMe')).toMatchObject({ httponly: true, secure: true, 'max-age': '2592000' });
    expect(await cache.get(key(alice.cookies.get('sessionId')!))).toMatchObject({ userId: 'user-alice', username: 'alice' });
    expect(await cache.get(`remember:${alice.cookies.get('rememberMe')}`)).toMatchObject({ userId: 'user-alice' });

    const bob = client();
    expect((await bob.post('/api/login', { username: 'bob', password: 'builder' })).status).toBe(200);
    expect(bob.cookies.has('sessionId')).toBe(true);
    expect(bob.cookies.has('rememberMe')).toBe(false);

    expect((await client().post('/api/login', { username: 'bob', password: 'nope', rememberMe: true })).status).toBe(401);
  });

  it('signs a returning user in from the remember-me cookie alone', async () => {
    const { cache } = seed.basic;
    const returning = client();
    returning.cookies.set('rememberMe', await seed.rememberMe.createRememberMeToken('user-bob'));
    const response = await returning.get('/api/whoami');
    expect(response.body.session).toMatchObject({ userId: 'user-bob', username: 'bob', email: 'bob@example.com' });
    const sessionId = returning.cookies.get('sessionId');
    expect(sessionId).toBeDefined();
    expect(await cache.get(key(sessionId!))).toMatchObject({ userId: 'user-bob' });
  });

  it('clears an unknown remember-me cookie and attaches no session', async () => {
    const forged = client();
    forged.cookies.set('rememberMe', 'forged-token');
    const response = await forged.get('/api/whoami');
    expect(response.body.session).toBeNull();
    expect(forged.cookies.has('rememberMe')).toBe(false);
    expect(forged.cookies.has('sessionId')).toBe(false);
  });
});

describe('Multi-Device Sessions', () => {
  const laptop = { id: 'laptop', name: 'Laptop', ip: '192.0.2.1' };
  const phone = { id: 'phone', name: 'Phone', ip: '192.0.2.2' };

  it('tracks, lists, revokes one and revokes all sessions of a user', async () => {
    const { cache } = seed.basic;
    const store = new seed.multiDevice.MultiDeviceSessionStore();
    const first = await store.create('user-md', laptop);
    const second = await store.create('user-md', phone);
    expect(await cache.get('user:user-md:sessions')).toEqual([first, second]);
    expect(await cache.get(key(first))).toMatchObject({ userId: 'user-md', deviceId: 'laptop', deviceName: 'Laptop', lastIP: '192.0.2.1' });

    const listed = await store.getUserSessions('user-md');
    expect(listed.map((session) => session.deviceId)).toEqual(['laptop', 'phone']);

    await store.deleteSession(second);
    expect(await cache.get(key(second))).toBeNull();
    expect(await cache.get('user:user-md:sessions')).toEqual([first]);

    const third = await store.create('user-md', phone);
    await store.deleteAllUserSessions('user-md');
    expect(await cache.get(key(first))).toBeNull();
    expect(await cache.get(key(third))).toBeNull();
    expect(await cache.get('user:user-md:sessions')).toBeNull();
    expect(await store.getUserSessions('user-md')).toEqual([]);
  });

  it('leaves expired sessions out of the list', async () => {
    const { cache } = seed.basic;
    const store = new seed.multiDevice.MultiDeviceSessionStore();
    const gone = await store.create('user-exp', laptop);
    await store.create('user-exp', phone);
    await cache.delete(key(gone));
    expect((await store.getUserSessions('user-exp')).map((session) => session.deviceId)).toEqual(['phone']);
  });

  it('routes: list (marking the current device), revoke one, log out everywhere', async () => {
    const { cache } = seed.basic;
    const { multiDeviceSessions } = seed.multiDevice;
    const client = await serve(behindSessionMiddleware(seed.multiDevice.app));
    expect((await client().get('/api/sessions')).status).toBe(401);

    const onLaptop = await multiDeviceSessions.create('user-routes', laptop);
    const onPhone = await multiDeviceSessions.create('user-routes', phone);
    const me = client();
    me.cookies.set('sessionId', onLaptop);

    const list = await me.get('/api/sessions');
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(2);
    expect(list.body.sessions).toContainEqual(expect.objectContaining({ deviceId: 'laptop', deviceName: 'Laptop', lastIP: '192.0.2.1', current: true }));
    expect(list.body.sessions).toContainEqual(expect.objectContaining({ deviceId: 'phone', current: false }));
    for (const session of list.body.sessions) expect(Date.parse(session.lastAccess)).not.toBeNaN();

    const revoked = await me.delete(`/api/sessions/${onPhone}`);
    expect(revoked.body).toEqual({ message: 'Session revoked' });
    expect(await cache.get(key(onPhone))).toBeNull();
    expect((await me.get('/api/sessions')).body.sessions.map((session: { deviceId: string }) => session.deviceId)).toEqual(['laptop']);

    const everywhere = await me.post('/api/logout-all');
    expect(everywhere.body).toEqual({ message: 'Logged out from all devices' });
    expect(me.cookies.has('sessionId')).toBe(false);
    expect(await cache.get(key(onLaptop))).toBeNull();
    expect(await cache.get('user:user-routes:sessions')).toBeNull();
  });
});

describe('IP Validation', () => {
  let client: (path?: string) => CookieClient;
  beforeAll(async () => {
    const { app } = seed.ip;
    app.get('/api/whoami', (req, res) => {
      res.json({ session: req.session ?? null });
    });
    client = await serve(app);
  });

  it('returns the session to its own IP and ends it for another', async () => {
    const { cache } = seed.basic;
    const { secureSessionStore } = seed.ip;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const id = await secureSessionStore.create('user-ip', '198.51.100.1');
      expect(await secureSessionStore.get(id, '198.51.100.1')).toMatchObject({ userId: 'user-ip', ip: '198.51.100.1' });
      expect(await secureSessionStore.get(id, '203.0.113.9')).toBeNull();
      expect(warn).toHaveBeenCalledWith(`IP mismatch for session ${id}`);
      expect(await cache.get(key(id))).toBeNull();
    } finally {
      warn.mockRestore();
    }
  });

  it('middleware: attaches a session bound to the caller, clears one bound elsewhere', async () => {
    const { cache } = seed.basic;
    const { secureSessionStore } = seed.ip;
    const local = client();
    local.cookies.set('sessionId', await secureSessionStore.create('user-ip', '127.0.0.1'));
    expect((await local.get('/api/whoami')).body.session).toMatchObject({ userId: 'user-ip', ip: '127.0.0.1' });

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const stolen = client();
      const id = await secureSessionStore.create('user-ip', '203.0.113.9');
      stolen.cookies.set('sessionId', id);
      expect((await stolen.get('/api/whoami')).body.session).toBeNull();
      expect(stolen.cookies.has('sessionId')).toBe(false);
      expect(await cache.get(key(id))).toBeNull();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('CSRF Protection', () => {
  let client: (path?: string) => CookieClient;
  beforeAll(async () => {
    const { app } = seed.csrf;
    // After the guide's app.use(validateCSRF).
    app.get('/api/ping', (_req, res) => {
      res.json({ ok: true });
    });
    app.post('/api/transfer', (_req, res) => {
      res.json({ ok: true });
    });
    client = await serve(behindSessionMiddleware(app));
  });

  it('stores the token in the session', async () => {
    const { sessionId, csrfToken } = await seed.csrf.createSessionWithCSRF('user-csrf');
    expect(await seed.basic.cache.get(key(sessionId))).toMatchObject({ userId: 'user-csrf', csrfToken });
  });

  it('lets GETs through and unsafe requests only with the session token', async () => {
    const { sessionId, csrfToken } = await seed.csrf.createSessionWithCSRF('user-csrf');
    const user = client();
    user.cookies.set('sessionId', sessionId);
    expect((await user.get('/api/ping')).status).toBe(200);

    const missing = await user.post('/api/transfer', { amount: 1 });
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({ error: 'Invalid CSRF token' });
    expect((await user.post('/api/transfer', { amount: 1 }, { csrf: 'wrong' })).status).toBe(403);
    expect((await user.post('/api/transfer', { amount: 1 }, { csrf: csrfToken })).status).toBe(200);
    expect((await user.post('/api/transfer', { amount: 1, csrfToken })).status).toBe(200);

    expect((await client().post('/api/transfer', { amount: 1, csrfToken })).status).toBe(403);
  });
});

describe('Concurrent Login Prevention', () => {
  it("a new exclusive session ends the user's earlier ones", async () => {
    const { cache } = seed.basic;
    const earlier = await seed.multiDevice.multiDeviceSessions.create('user-ex', { id: 'tablet', name: 'Tablet', ip: '192.0.2.3' });
    const first = await seed.exclusive.createExclusiveSession('user-ex');
    expect(await cache.get(key(earlier))).toBeNull();
    expect(await cache.get(key(first))).toMatchObject({ userId: 'user-ex' });
    expect(await cache.get('user:user-ex:sessions')).toEqual([first]);

    const second = await seed.exclusive.createExclusiveSession('user-ex');
    expect(await cache.get(key(first))).toBeNull();
    expect(await cache.get(key(second))).toMatchObject({ userId: 'user-ex' });
    expect(await cache.get('user:user-ex:sessions')).toEqual([second]);
  });
});

// These two clear the cache first: they count or sweep every session:* key.
describe('Track Session Metrics', () => {
  it('counts sessions, active ones, users and the average length, also over the route', async () => {
    const { cache } = seed.basic;
    await cache.clear();
    const now = Date.now();
    await cache.set('session:m1', { userId: 'u1', createdAt: now - 60_000, lastAccess: now });
    await cache.set('session:m2', { userId: 'u1', createdAt: now - 120_000, lastAccess: now - 60_000 });
    await cache.set('session:m3', { userId: 'u2', createdAt: now - 180_000, lastAccess: now - 600_000 });
    await cache.set('user:u1:sessions', ['m1', 'm2']);

    const metrics = await seed.metrics.getSessionMetrics();
    expect(metrics).toMatchObject({ totalSessions: 3, activeSessions: 2, uniqueUsers: 2 });
    expect(metrics.averageSessionLength).toBeGreaterThanOrEqual(120_000);
    expect(metrics.averageSessionLength).toBeLessThan(120_000 + 60_000);

    const client = await serve(seed.metrics.app);
    const overHttp = await client().get('/api/admin/sessions/metrics');
    expect(overHttp.status).toBe(200);
    expect(overHttp.body).toMatchObject({ totalSessions: 3, activeSessions: 2, uniqueUsers: 2 });
  });

  it('sees every session, across scan pages', async () => {
    const { cache } = seed.basic;
    await cache.clear();
    const now = Date.now();
    const count = 1_050;
    await Promise.all(
      Array.from({ length: count }, (_, i) => cache.set(`session:many-${i}`, { userId: `u${i % 7}`, createdAt: now, lastAccess: now }, { ttl: 600 })),
    );
    expect(await seed.metrics.getSessionMetrics()).toMatchObject({ totalSessions: count, activeSessions: count, uniqueUsers: 7 });
  });
});

describe('Clean Up Expired Sessions', () => {
  it('one pass deletes sessions idle over two hours and keeps the rest', async () => {
    const { cache } = seed.basic;
    await cache.clear();
    const now = Date.now();
    await cache.set('session:stale', { userId: 'u1', createdAt: now - 4 * 3_600_000, lastAccess: now - 3 * 3_600_000 });
    await cache.set('session:idle-hour', { userId: 'u1', createdAt: now - 3_600_000, lastAccess: now - 3_600_000 });
    await cache.set('session:fresh', { userId: 'u2', createdAt: now, lastAccess: now });
    await cache.set('remember:stale', { userId: 'u1', createdAt: now - 3 * 3_600_000 });

    await seed.cleanUp.cleanUpExpiredSessions();

    expect(await cache.get('session:stale')).toBeNull();
    expect(await cache.get('session:idle-hour')).not.toBeNull();
    expect(await cache.get('session:fresh')).not.toBeNull();
    expect(await cache.get('remember:stale')).not.toBeNull();
  });
});
