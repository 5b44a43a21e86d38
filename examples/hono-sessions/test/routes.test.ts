import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { startExample, type ExampleProcess } from './example-process';

// The Hono example over real HTTP: its own process (`tsx src/server.ts`, built packages) on
// @hono/node-server, against a real Lix server. Every route of the example-app contract.
let server: ServerProcess;
let app: ExampleProcess;

beforeAll(async () => {
  server = await startServer();
  // The preference and cart routes wait 150 ms, so parallel requests really overlap.
  app = await startExample(server.url, { EXAMPLE_WRITE_DELAY_MS: '150', TRUST_PROXY: 'loopback' });
});

afterAll(async () => {
  await app?.stop();
  await server?.stop();
});

const PASSWORDS: Record<string, string> = { alice: 'wonderland', bob: 'builder', carol: 'admin-carol' };

async function signedIn(username: string, extra: Record<string, unknown> = {}, client = new CookieClient(app.url)): Promise<CookieClient> {
  const response = await client.post('/api/login', { username, password: PASSWORDS[username], ...extra });
  expect(response.status).toBe(200);
  return client;
}

describe('login, profile, logout', () => {
  it('answers /health', async () => {
    expect((await new CookieClient(app.url).get('/health')).body).toEqual({ status: 'ok' });
  });

  it('rejects a wrong password and an unknown user with 401 and sets no cookie', async () => {
    const client = new CookieClient(app.url);
    const wrong = await client.post('/api/login', { username: 'alice', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'Invalid credentials' });
    expect((await client.post('/api/login', { username: 'mallory', password: 'x' })).status).toBe(401);
    expect(client.cookies.size).toBe(0);
  });

  it('logs in (a new session id, HttpOnly, SameSite=Lax), serves the profile and logs out', async () => {
    const client = new CookieClient(app.url);
    expect((await client.get('/api/profile')).body).toEqual({ error: 'Not authenticated' });
    const login = await client.post('/api/login', { username: 'alice', password: 'wonderland' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ message: 'Login successful', csrfToken: expect.stringMatching(/^[\w-]{43}$/) });
    const cookie = cookieAttributes(login.setCookies, 'lix.sid')!;
    expect(cookie).toMatchObject({ httponly: true, samesite: 'Lax', path: '/', value: expect.stringMatching(/^[\w-]{43}$/) });
    expect(cookieAttributes(login.setCookies, 'lix.remember')).toBeUndefined();

    expect((await client.get('/api/profile')).body).toEqual({ userId: 'user-1', username: 'alice', email: 'alice@example.com', roles: ['user'] });
    expect((await client.get('/api/csrf-token')).body).toEqual({ csrfToken: login.body.csrfToken });

    const before = client.cookies.get('lix.sid');
    await client.post('/api/login', { username: 'alice', password: 'wonderland' });
    expect(client.cookies.get('lix.sid')).not.toBe(before); // no session fixation

    const logout = await client.post('/api/logout');
    expect(logout.body).toEqual({ message: 'Logout successful' });
    expect((await client.get('/api/profile')).status).toBe(401);
  });

  it('needs the CSRF token for unsafe requests with a session: missing or wrong gets 403, header or body field passes', async () => {
    const client = await signedIn('bob');
    expect((await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: false })).status).toBe(403);
    expect((await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await client.put('/api/preferences/theme', { theme: 'dark', csrfToken: client.csrfToken }, { csrf: false })).body).toEqual({ theme: 'dark' });
    expect((await client.put('/api/preferences/theme', { theme: 'light' })).body).toEqual({ theme: 'light' });
    expect((await client.post('/api/logout', undefined, { csrf: false })).status).toBe(403);
  });

  it('signs a remembered user in again with a rotated token', async () => {
    const client = await signedIn('alice', { rememberMe: true, deviceName: 'Laptop' });
    const token = client.cookies.get('lix.remember');
    expect(token).toBeDefined();
    client.cookies.delete('lix.sid');
    const again = await client.get('/api/profile');
    expect(again.status).toBe(200);
    expect(again.body.username).toBe('alice');
    expect(client.cookies.get('lix.remember')).not.toBe(token);
  });
});

describe('guest cart and theme', () => {
  it('stores a guest session on the first write only, keeps the cart at login and drops the theme', async () => {
    const visitor = new CookieClient(app.url);
    const empty = await visitor.get('/api/cart');
    expect(empty.body).toEqual({ cart: [] });
    expect(empty.setCookies).toEqual([]);
    expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'light', cart: [] });

    const added = await visitor.post('/api/cart', { item: 'book' });
    expect(added.body).toEqual({ cart: ['book'] });
    expect(cookieAttributes(added.setCookies, 'lix.guest')).toMatchObject({ httponly: true, samesite: 'Lax' });
    // From now on the guest's token is needed: read it, as a page would.
    expect((await visitor.post('/api/cart', { item: 'pen' }, { csrf: false })).status).toBe(403);
    expect((await visitor.get('/api/csrf-token')).status).toBe(200);
    expect((await visitor.post('/api/cart', { item: 'pen' })).body).toEqual({ cart: ['book', 'pen'] });
    expect((await visitor.put('/api/preferences/theme', { theme: 'dark' })).body).toEqual({ theme: 'dark' });
    expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'dark', cart: ['book', 'pen'] });

    await signedIn('carol', {}, visitor);
    expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'light', cart: ['book', 'pen'] });
    expect((await visitor.post('/api/cart', { item: 'cup' })).body).toEqual({ cart: ['book', 'pen', 'cup'] });
  });

  it('keeps both of two parallel writes to different fields', async () => {
    const client = await signedIn('bob');
    await Promise.all([client.post('/api/cart', { item: 'tea' }), client.put('/api/preferences/theme', { theme: 'dark' })]);
    expect((await client.get('/api/preferences')).body).toMatchObject({ theme: 'dark', cart: expect.arrayContaining(['tea']) });
  });

  it('answers 400 to bad input', async () => {
    const client = await signedIn('bob');
    expect((await client.put('/api/preferences/theme', { theme: 'blue' })).status).toBe(400);
    expect((await client.post('/api/cart', { item: '' })).status).toBe(400);
  });
});

describe('device sessions', () => {
  it('lists the user\'s sessions, revokes only their own, and logs out everywhere', async () => {
    const laptop = await signedIn('carol', { deviceName: 'Laptop' });
    const phone = await signedIn('carol', { deviceName: 'Phone' });
    const intruder = await signedIn('bob');

    const { body } = await laptop.get('/api/sessions');
    const mine = body.sessions as { id: string; deviceId: string; deviceName: string; lastIP: string; lastAccess: string; createdAt: string; current: boolean }[];
    const current = mine.find((s) => s.current)!;
    expect(current).toMatchObject({ deviceName: 'Laptop', lastIP: '127.0.0.1', lastAccess: expect.any(String), createdAt: expect.any(String), deviceId: expect.any(String) });
    const phoneEntry = mine.find((s) => s.deviceName === 'Phone' && !s.current)!;
    expect(phoneEntry.id).not.toBe(laptop.cookies.get('lix.sid')); // a handle, never the session id

    expect((await intruder.delete(`/api/sessions/${phoneEntry.id}`)).body).toEqual({ error: 'Session not found' });
    expect((await phone.get('/api/profile')).status).toBe(200);
    expect((await laptop.delete(`/api/sessions/${phoneEntry.id}`)).body).toEqual({ message: 'Session revoked' });
    expect((await phone.get('/api/profile')).status).toBe(401);

    const again = await signedIn('carol', { deviceName: 'Tablet' });
    expect((await laptop.post('/api/logout-all')).body).toEqual({ message: 'Logged out from all devices' });
    expect((await laptop.get('/api/profile')).status).toBe(401);
    expect((await again.get('/api/profile')).status).toBe(401);
    expect((await intruder.get('/api/profile')).status).toBe(200);
  });

  it('takes the client address from X-Forwarded-For through the trusted loopback proxy', async () => {
    const proxied = new CookieClient(app.url);
    await proxied.post('/api/login', { username: 'bob', password: 'builder', deviceName: 'Behind proxy' }, { headers: { 'x-forwarded-for': '203.0.113.5' } });
    const list = (await proxied.get('/api/sessions', { headers: { 'x-forwarded-for': '203.0.113.5' } })).body.sessions as { current: boolean; lastIP: string }[];
    expect(list.find((s) => s.current)!.lastIP).toBe('203.0.113.5');
  });
});

describe('when the cache is unreachable', () => {
  it('answers 503 with Retry-After to requests with a session and to logins, and recovers', async () => {
    const cache = await startServer();
    const example = await startExample(cache.url);
    let restarted: ServerProcess | undefined;
    try {
      const client = await signedIn('alice', {}, new CookieClient(example.url));
      await cache.stop();
      const profile = await client.get('/api/profile');
      expect(profile.status).toBe(503);
      expect(profile.headers.get('retry-after')).toBe('5');
      expect(profile.body.error).toBe('Session store unavailable');
      const login = await new CookieClient(example.url).post('/api/login', { username: 'bob', password: 'builder' });
      expect(login.status).toBe(503);
      expect(login.body.error).toBe('Session store unavailable');
      expect((await new CookieClient(example.url).get('/health')).status).toBe(200);

      // The cache is back (empty: a fresh in-memory server on the same port).
      restarted = await startServer({ port: cache.port });
      expect((await client.get('/api/profile')).status).toBe(401);
      const bob = await signedIn('bob', {}, new CookieClient(example.url));
      expect((await bob.get('/api/profile')).status).toBe(200);
    } finally {
      await example.stop();
      await cache.stop();
      await restarted?.stop();
    }
  }, 60_000);
});
