import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { startExample, type ExampleProcess } from './example-process';

// The Fastify example over real HTTP: the example process (built packages) against a real Lix server.
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

async function signedIn(username: string, extra: Record<string, unknown> = {}): Promise<CookieClient> {
  const client = new CookieClient(app.url);
  const response = await client.post('/api/login', { username, password: PASSWORDS[username], ...extra });
  expect(response.status).toBe(200);
  return client;
}

describe('login, profile, logout', () => {
  it('rejects a wrong password and an unknown user with 401 and sets no cookie', async () => {
    const client = new CookieClient(app.url);
    const wrong = await client.post('/api/login', { username: 'alice', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'Invalid credentials' });
    expect((await client.post('/api/login', { username: 'mallory', password: 'x' })).status).toBe(401);
    expect(client.cookies.size).toBe(0);
  });

  it('logs in with a secure-by-default cookie and serves the profile', async () => {
    const client = new CookieClient(app.url);
    const login = await client.post('/api/login', { username: 'alice', password: 'wonderland' });
    expect(login.status).toBe(200);
    expect(login.body.message).toBe('Login successful');
    const cookie = cookieAttributes(login.setCookies, 'lix.sid')!;
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits, base64url
    expect(cookie.httponly).toBe(true);
    expect(cookie.samesite).toBe('Lax');
    expect(cookie.path).toBe('/');
    expect(Number(cookie['max-age'])).toBeGreaterThan(0);
    expect(cookieAttributes(login.setCookies, 'lix.remember')).toBeUndefined();

    const profile = await client.get('/api/profile');
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual({ userId: 'user-1', username: 'alice', email: 'alice@example.com', roles: ['user'] });
  });

  it('answers 401 to the profile without a session', async () => {
    const response = await new CookieClient(app.url).get('/api/profile');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'Not authenticated' });
  });

  it('logs out: the cookie is cleared and the old id stops working', async () => {
    const client = await signedIn('alice');
    const stolen = client.clone();
    const logout = await client.post('/api/logout');
    expect(logout.status).toBe(200);
    expect(logout.body).toEqual({ message: 'Logout successful' });
    expect(cookieAttributes(logout.setCookies, 'lix.sid')!['max-age']).toBe('0');
    expect((await client.get('/api/profile')).status).toBe(401);
    expect((await stolen.get('/api/profile')).status).toBe(401);
  });

  it('gives a new session id at every login (no fixation)', async () => {
    // An attacker plants a well-formed id in the victim's browser before login.
    const victim = new CookieClient(app.url);
    const planted = 'A'.repeat(43);
    victim.cookies.set('lix.sid', planted);
    await victim.post('/api/login', { username: 'bob', password: 'builder' });
    const first = victim.cookies.get('lix.sid')!;
    expect(first).not.toBe(planted);
    const attacker = new CookieClient(app.url);
    attacker.cookies.set('lix.sid', planted);
    expect((await attacker.get('/api/profile')).status).toBe(401);

    // Logging in again while signed in: yet another id, and the previous one is dead.
    const before = victim.clone();
    expect((await victim.post('/api/login', { username: 'bob', password: 'builder' })).status).toBe(200);
    const second = victim.cookies.get('lix.sid')!;
    expect(second).not.toBe(first);
    const stale = await before.get('/api/profile');
    expect(stale.status).toBe(401);
    expect(cookieAttributes(stale.setCookies, 'lix.sid')!['max-age']).toBe('0');
    expect((await victim.get('/api/profile')).status).toBe(200);
  });

  it('ignores a malformed cookie, clearing it', async () => {
    const client = new CookieClient(app.url);
    client.cookies.set('lix.sid', 'expired-session-id');
    const response = await client.get('/api/profile');
    expect(response.status).toBe(401);
    expect(cookieAttributes(response.setCookies, 'lix.sid')!['max-age']).toBe('0');
    expect(client.cookies.has('lix.sid')).toBe(false);
  });
});

describe('guest sessions', () => {
  it('store nothing until the first write, then keep the cart (not the theme) through login', async () => {
    const visitor = new CookieClient(app.url);
    const empty = await visitor.get('/api/cart');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ cart: [] });
    expect(empty.setCookies).toEqual([]);
    expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'light', cart: [] });
    // Nothing stored, so nothing to forge: no token needed for the first write.
    expect(visitor.cookies.size).toBe(0);

    const added = await visitor.post('/api/cart', { item: 'book' }, { csrf: false });
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ cart: ['book'] });
    expect(added.setCookies).toHaveLength(1);
    const guestCookie = added.setCookies[0]!;
    expect(guestCookie).toMatch(/HttpOnly/);
    expect(guestCookie).not.toMatch(/^lix\.sid=/);
    expect(visitor.cookies.size).toBe(1);

    // Stored now: unsafe requests need the guest's token, which /api/csrf-token gives.
    const { csrfToken } = (await visitor.get('/api/csrf-token')).body as { csrfToken: string };
    expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await visitor.get('/api/csrf-token')).body.csrfToken).toBe(csrfToken);
    expect((await visitor.post('/api/cart', { item: 'pen' }, { csrf: false })).status).toBe(403);
    expect((await visitor.post('/api/cart', { item: 'pen' }, { csrf: csrfToken })).body).toEqual({ cart: ['book', 'pen'] });
    expect((await visitor.put('/api/preferences/theme', { theme: 'dark' }, { csrf: csrfToken })).status).toBe(200);
    expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'dark', cart: ['book', 'pen'] });
    expect((await visitor.get('/api/profile')).status).toBe(401);
    expect((await visitor.get('/api/sessions')).status).toBe(401);

    const login = await visitor.post('/api/login', { username: 'alice', password: 'wonderland' }, { csrf: csrfToken });
    expect(login.status).toBe(200);
    // A new session, with its own token; the guest cookie goes.
    expect(login.body.csrfToken).not.toBe(csrfToken);
    expect([...visitor.cookies.keys()]).toEqual(['lix.sid']);
    expect((await visitor.get('/api/cart')).body).toEqual({ cart: ['book', 'pen'] });
    expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'light', cart: ['book', 'pen'] });
  });

  it('refuses a login that carries a stored guest session without its token (login CSRF)', async () => {
    const visitor = new CookieClient(app.url);
    expect((await visitor.post('/api/cart', { item: 'book' })).status).toBe(200);
    expect((await visitor.post('/api/login', { username: 'alice', password: 'wonderland' }, { csrf: false })).status).toBe(403);
  });

  it('validate their input', async () => {
    const visitor = new CookieClient(app.url);
    expect((await visitor.post('/api/cart', { item: '' })).status).toBe(400);
    expect((await visitor.put('/api/preferences/theme', { theme: 'purple' })).status).toBe(400);
    expect(visitor.cookies.size).toBe(0);
  });
});

describe('other routes', () => {
  it('answers /health, and 404 JSON for unknown routes', async () => {
    const client = new CookieClient(app.url);
    expect((await client.get('/health')).body).toEqual({ status: 'ok' });
    const missing = await client.get('/api/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'Not found' });
    // A client error keeps its status (not a 500).
    expect((await client.request('POST', '/api/login', { headers: { 'content-type': 'application/json' }, body: undefined })).status).toBe(400);
  });
});

describe('device sessions', () => {
  it('lists the user’s sessions with the current one marked, and no session ids', async () => {
    const laptop = await signedIn('alice', { deviceName: 'Laptop' });
    const phone = await signedIn('alice', { deviceName: 'Phone' });
    const response = await laptop.get('/api/sessions');
    expect(response.status).toBe(200);
    const sessions = response.body.sessions as { id: string; deviceName: string; current: boolean; lastIP: string; lastAccess: string; deviceId: string }[];
    const mine = sessions.filter((s) => s.deviceName === 'Laptop' || s.deviceName === 'Phone');
    expect(mine.map((s) => s.deviceName).sort()).toEqual(['Laptop', 'Phone']);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.find((s) => s.current)!.deviceName).toBe('Laptop');
    for (const s of sessions) {
      expect(typeof s.deviceId).toBe('string');
      expect(Number.isNaN(Date.parse(s.lastAccess))).toBe(false);
    }
    const raw = JSON.stringify(response.body);
    expect(raw).not.toContain(laptop.cookies.get('lix.sid'));
    expect(raw).not.toContain(phone.cookies.get('lix.sid'));

    // A handle is not a cookie.
    const forger = new CookieClient(app.url);
    forger.cookies.set('lix.sid', sessions[0]!.id);
    expect((await forger.get('/api/profile')).status).toBe(401);
  });

  it('shows the forwarded client address behind a trusted proxy', async () => {
    const client = new CookieClient(app.url);
    await client.post('/api/login', { username: 'bob', password: 'builder', deviceName: 'Proxied' }, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    const { body } = await client.get('/api/sessions', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(body.sessions.find((s: { current: boolean }) => s.current).lastIP).toBe('203.0.113.7');
  });

  it('revokes one of the user’s own sessions', async () => {
    const laptop = await signedIn('alice', { deviceName: 'Laptop 2' });
    const phone = await signedIn('alice', { deviceName: 'Phone 2' });
    const { body } = await laptop.get('/api/sessions');
    const target = body.sessions.find((s: { deviceName: string }) => s.deviceName === 'Phone 2');
    const revoke = await laptop.delete(`/api/sessions/${target.id}`);
    expect(revoke.status).toBe(200);
    expect(revoke.body).toEqual({ message: 'Session revoked' });
    const after = await phone.get('/api/profile');
    expect(after.status).toBe(401);
    expect(cookieAttributes(after.setCookies, 'lix.sid')!['max-age']).toBe('0');
    expect((await laptop.get('/api/profile')).status).toBe(200);
    expect((await laptop.delete(`/api/sessions/${target.id}`)).status).toBe(404);
  });

  it('does not let user A revoke user B’s session', async () => {
    const alice = await signedIn('alice');
    const bob = await signedIn('bob', { deviceName: 'Bob’s phone' });
    const { body } = await bob.get('/api/sessions');
    const bobsHandle = body.sessions.find((s: { current: boolean }) => s.current).id;
    const attempt = await alice.delete(`/api/sessions/${bobsHandle}`);
    expect(attempt.status).toBe(404);
    expect((await bob.get('/api/profile')).status).toBe(200);
    // Garbage handles are simply not found.
    expect((await alice.delete('/api/sessions/not-a-handle')).status).toBe(404);
  });

  it('logs out everywhere, remembered devices included', async () => {
    const one = await signedIn('carol');
    const two = await signedIn('carol', { rememberMe: true });
    const remembered = two.clone();
    remembered.cookies.delete('lix.sid');
    const response = await one.post('/api/logout-all');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ message: 'Logged out from all devices' });
    expect((await one.get('/api/profile')).status).toBe(401);
    expect((await two.get('/api/profile')).status).toBe(401);
    expect((await remembered.get('/api/profile')).status).toBe(401);
    expect((await new CookieClient(app.url).post('/api/logout-all')).status).toBe(401);
  });
});

describe('metrics', () => {
  it('is for admins only and reports counts, never ids', async () => {
    expect((await new CookieClient(app.url).get('/api/admin/sessions/metrics')).status).toBe(401);
    const alice = await signedIn('alice');
    expect((await alice.get('/api/admin/sessions/metrics')).status).toBe(403);

    const carol = await signedIn('carol');
    const before = (await carol.get('/api/admin/sessions/metrics')).body;
    expect(Object.keys(before).sort()).toEqual(['activeSessions', 'averageSessionLength', 'totalSessions', 'uniqueUsers']);
    await signedIn('bob');
    const after = await carol.get('/api/admin/sessions/metrics');
    expect(after.status).toBe(200);
    expect(after.body.totalSessions).toBe(before.totalSessions + 1);
    expect(after.body.activeSessions).toBe(before.activeSessions + 1);
    expect(after.body.uniqueUsers).toBeGreaterThanOrEqual(3);
    expect(after.body.averageSessionLength).toBeGreaterThan(0);
  });
});

describe('CSRF', () => {
  it('lets the login through without a token, then demands the session’s token on unsafe methods', async () => {
    const client = new CookieClient(app.url);
    const login = await client.post('/api/login', { username: 'bob', password: 'builder' }, { csrf: false });
    expect(login.status).toBe(200);
    const token = login.body.csrfToken as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const missing = await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: false });
    expect(missing.status).toBe(403);
    expect(missing.body.error).toBe('Invalid CSRF token');
    const wrong = await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') });
    expect(wrong.status).toBe(403);
    expect((await client.get('/api/preferences')).body.theme).toBe('light');

    expect((await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: token })).status).toBe(200);
    expect((await client.post('/api/cart', { item: 'pen', csrfToken: token }, { csrf: false })).status).toBe(200);
    expect((await client.get('/api/csrf-token', { csrf: false })).body.csrfToken).toBe(token);
    expect((await client.get('/api/preferences', { csrf: false })).body).toEqual({ theme: 'dark', cart: ['pen'] });

    // Another session's token does not fit this one.
    const other = await signedIn('bob');
    expect((await client.post('/api/logout', undefined, { csrf: other.csrfToken! })).status).toBe(403);
  });
});

describe('parallel requests', () => {
  it('keep both changes when they set different session fields', async () => {
    const client = await signedIn('alice');
    const [theme, cart] = await Promise.all([client.put('/api/preferences/theme', { theme: 'dark' }), client.post('/api/cart', { item: 'book' })]);
    expect(theme.status).toBe(200);
    expect(cart.status).toBe(200);
    expect((await client.get('/api/preferences')).body).toEqual({ theme: 'dark', cart: ['book'] });
  });

  it('cannot bring back a session revoked while they were in flight', async () => {
    const client = await signedIn('bob', { deviceName: 'slow' });
    const other = await signedIn('bob');
    const slow = client.put('/api/preferences/theme', { theme: 'dark' }); // waits 150 ms before writing
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await other.post('/api/logout-all')).status).toBe(200);
    const response = await slow;
    expect(response.status).toBe(200);
    expect(cookieAttributes(response.setCookies, 'lix.sid')!['max-age']).toBe('0');
    const zombie = client.clone();
    expect((await zombie.get('/api/profile')).status).toBe(401);
    const { body } = await (await signedIn('bob')).get('/api/sessions');
    expect(body.sessions.some((s: { deviceName: string }) => s.deviceName === 'slow')).toBe(false);
  });
});

describe('remember me', () => {
  it('signs the user in again with a rotated token, and treats a reused token as theft', async () => {
    const alice = new CookieClient(app.url);
    const login = await alice.post('/api/login', { username: 'alice', password: 'wonderland', rememberMe: true });
    const first = cookieAttributes(login.setCookies, 'lix.remember')!;
    expect(Number(first['max-age'])).toBe(30 * 24 * 3600);
    expect(first.httponly).toBe(true);
    const firstToken = first.value as string;
    const thief = new CookieClient(app.url);
    thief.cookies.set('lix.remember', firstToken);

    // The browser restarts: the session cookie is gone, the remember-me cookie signs alice in.
    alice.cookies.delete('lix.sid');
    const resumed = await alice.get('/api/profile');
    expect(resumed.status).toBe(200);
    expect(resumed.body.username).toBe('alice');
    expect(alice.cookies.get('lix.sid')).toBeDefined();
    const secondToken = alice.cookies.get('lix.remember')!;
    expect(secondToken).not.toBe(firstToken);

    // It rotates on every use.
    alice.cookies.delete('lix.sid');
    expect((await alice.get('/api/profile')).status).toBe(200);
    const thirdToken = alice.cookies.get('lix.remember')!;
    expect(thirdToken).not.toBe(secondToken);

    // The thief replays the first (already used) token: refused, and alice is signed out everywhere.
    const replay = await thief.get('/api/profile');
    expect(replay.status).toBe(401);
    expect(thief.cookies.has('lix.remember')).toBe(false);
    expect((await alice.get('/api/profile')).status).toBe(401);
    alice.cookies.delete('lix.sid');
    expect((await alice.get('/api/profile')).status).toBe(401);
  });

  it('ends the remember-me token at logout', async () => {
    const client = await signedIn('bob', { rememberMe: true });
    const copy = client.clone();
    copy.cookies.delete('lix.sid');
    expect((await client.post('/api/logout')).status).toBe(200);
    expect(client.cookies.has('lix.remember')).toBe(false);
    expect((await copy.get('/api/profile')).status).toBe(401);
  });
});
