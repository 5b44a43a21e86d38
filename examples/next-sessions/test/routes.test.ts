import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { BUILD_TIMEOUT_MS, startExample, type ExampleProcess } from './example-process';

// The Next.js example, built with `next build` and run with `next start`, against a real
// Lix Cache server, over real HTTP: the route contract every example app answers.
let server: ServerProcess;
let app: ExampleProcess;

beforeAll(async () => {
  server = await startServer();
  app = await startExample(server.url);
}, BUILD_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await app?.stop();
  await server?.stop();
});

async function signIn(username = 'alice', password = 'wonderland', extra: Record<string, unknown> = {}): Promise<CookieClient> {
  const client = new CookieClient(app.url);
  const response = await client.post('/api/login', { username, password, ...extra });
  expect(response.status).toBe(200);
  return client;
}

describe('the Next.js example', () => {
  it('answers /health', async () => {
    const response = await fetch(`${app.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('signs in, shows the profile, and signs out', async () => {
    const alice = new CookieClient(app.url);
    expect((await alice.get('/api/profile')).status).toBe(401);
    expect(await alice.post('/api/login', { username: 'alice', password: 'nope' })).toMatchObject({ status: 401, body: { error: 'Invalid credentials' } });

    const login = await alice.post('/api/login', { username: 'alice', password: 'wonderland' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ message: 'Login successful', csrfToken: expect.any(String) });
    const cookie = cookieAttributes(login.setCookies, 'lix.sid');
    expect(cookie).toMatchObject({ httponly: true, samesite: 'lax', path: '/' });
    expect(Number(cookie?.['max-age'])).toBeGreaterThan(0);
    expect(cookie?.secure).toBeUndefined(); // COOKIE_SECURE=false in tests (plain HTTP)

    expect((await alice.get('/api/profile')).body).toEqual({ userId: 'user-1', username: 'alice', email: 'alice@example.com', roles: ['user'] });
    expect((await alice.get('/api/csrf-token')).body).toEqual({ csrfToken: login.body.csrfToken });

    const stolen = alice.clone();
    const logout = await alice.post('/api/logout');
    expect(logout).toMatchObject({ status: 200, body: { message: 'Logout successful' } });
    expect(cookieAttributes(logout.setCookies, 'lix.sid')).toMatchObject({ 'max-age': '0' });
    expect((await alice.get('/api/profile')).status).toBe(401);
    // The session is gone from the store, not just from this browser.
    expect((await stolen.get('/api/profile')).status).toBe(401);
  });

  it('needs the CSRF token on unsafe requests with a session (header or body field)', async () => {
    const bob = await signIn('bob', 'builder');
    const token = bob.csrfToken!;
    expect(await bob.put('/api/preferences/theme', { theme: 'dark' }, { csrf: false })).toMatchObject({ status: 403, body: { error: 'Invalid CSRF token' } });
    expect((await bob.put('/api/preferences/theme', { theme: 'dark' }, { csrf: 'wrong' })).status).toBe(403);
    expect((await bob.post('/api/logout', undefined, { csrf: false })).status).toBe(403);
    expect((await bob.get('/api/preferences')).body).toEqual({ theme: 'light', cart: [] });

    expect(await bob.put('/api/preferences/theme', { theme: 'dark' })).toMatchObject({ status: 200, body: { theme: 'dark' } });
    expect(await bob.post('/api/cart', { item: 'hammer', csrfToken: token }, { csrf: false })).toMatchObject({ status: 200, body: { cart: ['hammer'] } });
    expect((await bob.get('/api/preferences')).body).toEqual({ theme: 'dark', cart: ['hammer'] });
    expect((await bob.put('/api/preferences/theme', { theme: 'blue' })).status).toBe(400);
  });

  it('keeps a guest cart across login under a new session id, but not the guest theme', async () => {
    const guest = new CookieClient(app.url);
    expect((await guest.get('/api/csrf-token')).status).toBe(401); // nothing to protect yet
    expect((await guest.get('/api/cart')).body).toEqual({ cart: [] });
    expect(guest.cookies.size).toBe(0); // no guest session stored before its first write

    expect(await guest.post('/api/cart', { item: 'book' })).toMatchObject({ status: 200, body: { cart: ['book'] } });
    const guestId = guest.cookies.get('lix.guest');
    expect(guestId).toBeTruthy();
    // Once stored, the guest session is protected like a signed-in one.
    expect((await guest.post('/api/cart', { item: 'pen' })).status).toBe(403);
    const { body } = await guest.get('/api/csrf-token');
    expect(body.csrfToken).toEqual(expect.any(String));
    expect((await guest.post('/api/cart', { item: 'pen' })).body).toEqual({ cart: ['book', 'pen'] });
    expect((await guest.put('/api/preferences/theme', { theme: 'dark' })).status).toBe(200);
    expect((await guest.get('/api/preferences')).body).toEqual({ theme: 'dark', cart: ['book', 'pen'] });
    expect((await guest.get('/api/profile')).status).toBe(401);

    expect((await guest.post('/api/login', { username: 'carol', password: 'admin-carol' })).status).toBe(200);
    expect(guest.cookies.has('lix.guest')).toBe(false);
    expect(guest.cookies.get('lix.sid')).not.toBe(guestId);
    expect((await guest.get('/api/preferences')).body).toEqual({ theme: 'light', cart: ['book', 'pen'] });
    expect((await guest.get('/api/profile')).body).toMatchObject({ username: 'carol', roles: ['user', 'admin'] });
  });

  it('lists, revokes and ends all of a user’s sessions', async () => {
    const laptop = await signIn('alice', 'wonderland', { deviceName: 'Laptop' });
    const phone = await signIn('alice', 'wonderland', { deviceName: 'Phone' });
    const { body } = await laptop.get('/api/sessions');
    const mine = body.sessions as { id: string; deviceName: string; current: boolean; lastAccess: string }[];
    expect(mine.find((s) => s.current)?.deviceName).toBe('Laptop');
    const other = mine.find((s) => s.deviceName === 'Phone')!;
    expect(other).toMatchObject({ current: false, lastAccess: expect.stringMatching(/^\d{4}-/) });

    expect(await laptop.delete(`/api/sessions/${encodeURIComponent(other.id)}`)).toMatchObject({ status: 200, body: { message: 'Session revoked' } });
    expect((await phone.get('/api/profile')).status).toBe(401);
    expect(await laptop.delete('/api/sessions/nope')).toMatchObject({ status: 404, body: { error: 'Session not found' } });
    // Bob cannot revoke Alice's sessions by handle.
    const bob = await signIn('bob', 'builder');
    const laptopHandle = mine.find((s) => s.current)!.id;
    expect((await bob.delete(`/api/sessions/${encodeURIComponent(laptopHandle)}`)).status).toBe(404);
    expect((await laptop.get('/api/profile')).status).toBe(200);

    const tablet = await signIn('alice', 'wonderland', { deviceName: 'Tablet' });
    expect(await laptop.post('/api/logout-all')).toMatchObject({ status: 200, body: { message: 'Logged out from all devices' } });
    expect((await laptop.get('/api/profile')).status).toBe(401);
    expect((await tablet.get('/api/profile')).status).toBe(401);
    expect((await bob.get('/api/profile')).status).toBe(200);
  });

  it('signs a remembered user in again, in a route handler and through the proxy guard', async () => {
    const alice = await signIn('alice', 'wonderland', { rememberMe: true });
    const remember = alice.cookies.get('lix.remember');
    expect(remember).toBeTruthy();

    // The session cookie is gone (browser restarted): the route handler resumes it.
    const restarted = alice.clone();
    restarted.cookies.delete('lix.sid');
    expect((await restarted.get('/api/profile')).body).toMatchObject({ username: 'alice' });
    expect(restarted.cookies.get('lix.sid')).toBeTruthy();
    expect(restarted.cookies.get('lix.remember')).not.toBe(remember); // rotated

    // A page behind the guard with only the remember-me cookie: the proxy signs the user in
    // again and hands the new session cookie on to the page in the same request.
    const token = restarted.cookies.get('lix.remember')!;
    const page = await fetch(`${app.url}/account`, { headers: { cookie: `lix.remember=${token}` }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in as <!-- -->alice');
    const set = page.headers.getSetCookie();
    expect(cookieAttributes(set, 'lix.sid')).toMatchObject({ httponly: true, path: '/' });
    expect(cookieAttributes(set, 'lix.remember')?.value).not.toBe(token);
  });

  it('guards /account in the proxy: a redirect to /login without a session, the page with one', async () => {
    const visitor = new CookieClient(app.url);
    const redirect = await visitor.get('/account/settings?tab=2');
    expect(redirect.status).toBe(307);
    expect(new URL(redirect.headers.get('location')!, app.url).pathname).toBe('/login');
    expect(new URL(redirect.headers.get('location')!, app.url).searchParams.get('next')).toBe('/account/settings?tab=2');
    expect((await visitor.get('/login')).status).toBe(200);

    // A stale session cookie: redirected, and the cookie cleared.
    visitor.cookies.set('lix.sid', 'not-a-session');
    const stale = await visitor.get('/account');
    expect(stale.status).toBe(307);
    expect(cookieAttributes(stale.setCookies, 'lix.sid')).toMatchObject({ 'max-age': '0' });

    const bob = await signIn('bob', 'builder');
    const page = await fetch(`${app.url}/account`, { headers: { cookie: `lix.sid=${bob.cookies.get('lix.sid')}` }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in as <!-- -->bob');
  });

  it('keeps admin metrics to admins', async () => {
    expect((await (await signIn('bob', 'builder')).get('/api/admin/sessions/metrics')).status).toBe(403);
    const carol = await signIn('carol', 'admin-carol');
    expect((await carol.get('/api/admin/sessions/metrics')).body).toMatchObject({ activeSessions: expect.any(Number) });
  });
});

describe('the Next.js example when the cache is down', () => {
  let down: ServerProcess | undefined;
  let downApp: ExampleProcess;

  beforeAll(async () => {
    down = await startServer();
    downApp = await startExample(down.url);
  }, BUILD_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await downApp?.stop();
    await down?.stop();
  });

  it('answers 503 with Retry-After to requests with a session, and never as nobody', async () => {
    const alice = new CookieClient(downApp.url);
    expect((await alice.post('/api/login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
    await down!.stop();
    down = undefined;

    for (const path of ['/api/profile', '/api/sessions', '/api/preferences', '/account']) {
      const response = await alice.get(path);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ error: 'Session store unavailable', message: expect.stringMatching(/try again/i) });
      expect(response.headers.get('retry-after')).toBe('5');
    }
    expect(alice.cookies.has('lix.sid')).toBe(true); // nothing cleared while the store cannot answer
    // Login needs the store too: 503, not a 500.
    const bob = new CookieClient(downApp.url);
    expect((await bob.post('/api/login', { username: 'bob', password: 'builder' })).status).toBe(503);
    // Without any cookie nothing needs the store.
    expect((await bob.get('/api/profile')).status).toBe(401);
  });
});
