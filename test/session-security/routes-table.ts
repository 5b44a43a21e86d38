/**
 * The route contract table: the functional rows every example app (examples/<framework>-sessions)
 * must answer alike, run end to end over real HTTP against the app's own process and a real
 * lix-cache-server. It is the companion of the security table (./table.ts) and holds what that
 * one does not: login and logout, the profile, malformed cookies, the device list, the client
 * address behind a trusted proxy, revoking and logging out everywhere, admin metrics, parallel
 * writes, remember-me over time, guests' other routes, bad input, /health and 404s, and the
 * app reaching the cache again after it restarts.
 *
 * An example's test/routes.test.ts calls it with the same `start` as the security table and
 * says, explicitly, which optional parts of the contract the app has (rows that need a part an
 * app lacks are not registered for it, and its test file says why):
 *
 * ```ts
 * import { describeSessionRoutes } from '../../../test/session-security/routes-table';
 * import { startExample } from './example-process';
 *
 * describeSessionRoutes('express', startExample, {
 *   capabilities: { writeDelay: true, peerAddress: true, jsonNotFound: true },
 * });
 * ```
 *
 * The table starts ONE instance of the app (TRUST_PROXY set, and EXAMPLE_WRITE_DELAY_MS=150
 * when the app has it) against one Lix server, in beforeAll, and its rows run in order on it.
 * The last row stops that server and starts a new one on the same port, so it runs after
 * every other row (the app's own `rows` included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes, type ClientResponse } from '../helpers/cookie-jar';
import { startServer, type ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/wait-for';
import type { AppProcess, StartApp } from './table';

export type { AppProcess, StartApp };

/** The optional parts of the contract. Each app's test file states all of them. */
export interface RouteCapabilities {
  /**
   * EXAMPLE_WRITE_DELAY_MS: the cart and theme routes wait that long before they write, so
   * parallel requests really overlap (the parallel-write and revoked-in-flight rows need it).
   */
  writeDelay: boolean;
  /** The app sees the TCP peer's address: without X-Forwarded-For a session's lastIP is 127.0.0.1. */
  peerAddress: boolean;
  /** Unknown routes answer 404 with the JSON body `{ error: 'Not found' }`. */
  jsonNotFound: boolean;
}

/** What one row gets: the app, and a way to sign a user in on it. */
export interface RouteContext {
  app: AppProcess;
  signIn(username: string, extra?: Record<string, unknown>, client?: CookieClient): Promise<CookieClient>;
}

/** One row: one `it()`, run the same way for every app that has what it needs. */
export interface RouteRow {
  title: string;
  /** The capability the row needs; without it the row is not registered for that app. */
  needs?: keyof RouteCapabilities;
  run(context: RouteContext): Promise<void>;
}

export interface SessionRoutesOptions {
  capabilities: RouteCapabilities;
  /**
   * The TRUST_PROXY value under which the app trusts the test client (on loopback) as its proxy.
   * Default `'loopback'` (Express's `trust proxy` syntax); an app that takes a hop count says `'1'`.
   */
  trustProxy?: string;
  /** The app's own rows (framework-specific), run on the same app after the table's rows. */
  rows?: RouteRow[];
  /** Extra checks while the cache is down in the restart row, with a signed-in client (e.g. guarded pages answer 503). */
  whileCacheDown?(context: RouteContext & { signedIn: CookieClient }): Promise<void>;
}

const SID = 'lix.sid';
const REMEMBER = 'lix.remember';
const GUEST = 'lix.guest';
const PASSWORDS: Record<string, string> = { alice: 'wonderland', bob: 'builder', carol: 'admin-carol' };
/** The default REMEMBER_ME_TTL (the table does not set it): 30 days. */
const DEFAULT_REMEMBER_ME_TTL = 30 * 24 * 3600;
/** EXAMPLE_WRITE_DELAY_MS, when the app has it. */
const WRITE_DELAY_MS = 150;

interface DeviceEntry {
  id: string;
  deviceId: string;
  deviceName: string;
  lastIP: string | undefined;
  lastAccess: string;
  createdAt: string;
  current: boolean;
}

function expectCleared(response: ClientResponse, name: string): void {
  const cookie = cookieAttributes(response.setCookies, name);
  expect(cookie, `Set-Cookie ${name} in ${JSON.stringify(response.setCookies)}`).toBeDefined();
  expect(cookie!['max-age']).toBe('0');
}

async function devices(client: CookieClient, headers?: Record<string, string>): Promise<DeviceEntry[]> {
  const response = await client.get('/api/sessions', headers ? { headers } : {});
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.sessions as DeviceEntry[];
}

export const ROUTE_ROWS: RouteRow[] = [
  {
    title: 'GET /health answers 200 {status: "ok"}',
    async run({ app }) {
      const response = await new CookieClient(app.url).get('/health');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok' });
    },
  },
  {
    title: 'an unknown route answers 404 {error: "Not found"} as JSON',
    needs: 'jsonNotFound',
    async run({ app }) {
      const missing = await new CookieClient(app.url).get('/api/nope');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
      expect(missing.body).toEqual({ error: 'Not found' });
    },
  },
  {
    title: 'login: a wrong password and an unknown user get 401 {error: "Invalid credentials"} and no cookie',
    async run({ app }) {
      const client = new CookieClient(app.url);
      const wrong = await client.post('/api/login', { username: 'alice', password: 'nope' });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ error: 'Invalid credentials' });
      const unknown = await client.post('/api/login', { username: 'mallory', password: 'x' });
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual({ error: 'Invalid credentials' });
      expect(wrong.setCookies).toEqual([]);
      expect(client.cookies.size).toBe(0);
    },
  },
  {
    title: 'login answers {message, csrfToken} with a session cookie (no remember-me unless asked); the profile and csrf-token follow',
    async run({ app }) {
      const client = new CookieClient(app.url);
      const login = await client.post('/api/login', { username: 'alice', password: 'wonderland' });
      expect(login.status).toBe(200);
      expect(login.body).toEqual({ message: 'Login successful', csrfToken: expect.stringMatching(/^[\w-]{43}$/) });
      expect(Number(cookieAttributes(login.setCookies, SID)?.['max-age'])).toBeGreaterThan(0);
      expect(cookieAttributes(login.setCookies, REMEMBER)).toBeUndefined();

      const profile = await client.get('/api/profile');
      expect(profile.status).toBe(200);
      expect(profile.body).toEqual({ userId: 'user-1', username: 'alice', email: 'alice@example.com', roles: ['user'] });
      expect((await client.get('/api/csrf-token')).body).toEqual({ csrfToken: login.body.csrfToken });
      const carol = await new CookieClient(app.url).post('/api/login', { username: 'carol', password: 'admin-carol' });
      expect(carol.status).toBe(200);
    },
  },
  {
    title: 'without a session the signed-in routes answer 401 {error: "Not authenticated"}',
    async run({ app }) {
      const nobody = new CookieClient(app.url);
      for (const response of [await nobody.get('/api/profile'), await nobody.get('/api/sessions'), await nobody.post('/api/logout-all')]) {
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ error: 'Not authenticated' });
      }
    },
  },
  {
    title: 'logout answers {message}, clears the cookie, and the old session id stops working everywhere',
    async run({ signIn }) {
      const client = await signIn('alice');
      const stolen = client.clone();
      const logout = await client.post('/api/logout');
      expect(logout.status).toBe(200);
      expect(logout.body).toEqual({ message: 'Logout successful' });
      expectCleared(logout, SID);
      expect((await client.get('/api/profile')).status).toBe(401);
      expect((await stolen.get('/api/profile')).status).toBe(401); // gone from the store, not just this browser
    },
  },
  {
    title: 'a malformed session cookie is ignored (401) and cleared',
    async run({ app }) {
      const client = new CookieClient(app.url);
      client.cookies.set(SID, 'expired-session-id');
      const response = await client.get('/api/profile');
      expect(response.status).toBe(401);
      expectCleared(response, SID);
      expect(client.cookies.has(SID)).toBe(false);
    },
  },
  {
    title: 'the device list: every session of the user, the current one marked, handles instead of session ids',
    async run({ app, signIn }) {
      const laptop = await signIn('alice', { deviceName: 'Laptop' });
      const phone = await signIn('alice', { deviceName: 'Phone' });
      const response = await laptop.get('/api/sessions');
      expect(response.status).toBe(200);
      const sessions = response.body.sessions as DeviceEntry[];
      expect(sessions.filter((s) => s.deviceName === 'Laptop' || s.deviceName === 'Phone').map((s) => s.deviceName).sort()).toEqual(['Laptop', 'Phone']);
      expect(sessions.filter((s) => s.current)).toHaveLength(1);
      expect(sessions.find((s) => s.current)!.deviceName).toBe('Laptop');
      for (const s of sessions) {
        expect(typeof s.id).toBe('string');
        expect(typeof s.deviceId).toBe('string');
        expect(Number.isNaN(Date.parse(s.lastAccess))).toBe(false);
        expect(Number.isNaN(Date.parse(s.createdAt))).toBe(false);
      }
      const raw = JSON.stringify(response.body);
      expect(raw).not.toContain(laptop.cookies.get(SID));
      expect(raw).not.toContain(phone.cookies.get(SID));

      // A handle is not a cookie.
      const forger = new CookieClient(app.url);
      forger.cookies.set(SID, sessions[0]!.id);
      expect((await forger.get('/api/profile')).status).toBe(401);
    },
  },
  {
    title: 'the device list shows the peer’s address (127.0.0.1) when no proxy forwards one',
    needs: 'peerAddress',
    async run({ signIn }) {
      const client = await signIn('bob', { deviceName: 'Direct' });
      expect((await devices(client)).find((s) => s.current)!.lastIP).toBe('127.0.0.1');
    },
  },
  {
    title: 'behind a trusted proxy (TRUST_PROXY) the device list shows the forwarded client address',
    async run({ app }) {
      const forwarded = { 'x-forwarded-for': '203.0.113.7' };
      const client = new CookieClient(app.url);
      expect((await client.post('/api/login', { username: 'bob', password: 'builder', deviceName: 'Proxied' }, { headers: forwarded })).status).toBe(200);
      expect((await devices(client, forwarded)).find((s) => s.current)!.lastIP).toBe('203.0.113.7');
    },
  },
  {
    title: 'a user revokes one of their own sessions: that device is signed out (cookie cleared), this one is not; revoking again is 404',
    async run({ signIn }) {
      const laptop = await signIn('alice', { deviceName: 'Laptop 2' });
      const phone = await signIn('alice', { deviceName: 'Phone 2' });
      const target = (await devices(laptop)).find((s) => s.deviceName === 'Phone 2')!;
      expect(target.current).toBe(false);
      const revoke = await laptop.delete(`/api/sessions/${encodeURIComponent(target.id)}`);
      expect(revoke.status).toBe(200);
      expect(revoke.body).toEqual({ message: 'Session revoked' });
      const after = await phone.get('/api/profile');
      expect(after.status).toBe(401);
      expectCleared(after, SID);
      expect((await laptop.get('/api/profile')).status).toBe(200);
      const again = await laptop.delete(`/api/sessions/${encodeURIComponent(target.id)}`);
      expect(again.status).toBe(404);
      expect(again.body).toEqual({ error: 'Session not found' });
    },
  },
  {
    title: 'logout-all signs the user out on every device, remembered ones included, and nobody else',
    async run({ signIn }) {
      const one = await signIn('carol');
      const two = await signIn('carol', { rememberMe: true });
      const remembered = two.clone();
      remembered.cookies.delete(SID); // a browser that would sign in again by its remember-me cookie
      const bystander = await signIn('bob');
      const response = await one.post('/api/logout-all');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ message: 'Logged out from all devices' });
      expect((await one.get('/api/profile')).status).toBe(401);
      expect((await two.get('/api/profile')).status).toBe(401);
      expect((await remembered.get('/api/profile')).status).toBe(401);
      expect((await bystander.get('/api/profile')).status).toBe(200);
    },
  },
  {
    title: 'admin metrics: 401 without a session, 403 for non-admins, counts (never ids) for admins',
    async run({ app, signIn }) {
      expect((await new CookieClient(app.url).get('/api/admin/sessions/metrics')).status).toBe(401);
      const alice = await signIn('alice');
      expect((await alice.get('/api/admin/sessions/metrics')).status).toBe(403);

      const carol = await signIn('carol');
      const before = (await carol.get('/api/admin/sessions/metrics')).body;
      expect(Object.keys(before).sort()).toEqual(['activeSessions', 'averageSessionLength', 'totalSessions', 'uniqueUsers']);
      await signIn('bob');
      const after = await carol.get('/api/admin/sessions/metrics');
      expect(after.status).toBe(200);
      expect(after.body.totalSessions).toBe(before.totalSessions + 1);
      expect(after.body.activeSessions).toBe(before.activeSessions + 1);
      expect(after.body.uniqueUsers).toBeGreaterThanOrEqual(3);
      expect(after.body.averageSessionLength).toBeGreaterThan(0);
      for (const value of Object.values(after.body)) expect(typeof value).toBe('number');
    },
  },
  {
    title: 'parallel requests that set different session fields both keep their change',
    needs: 'writeDelay',
    async run({ signIn }) {
      const client = await signIn('alice');
      const [theme, cart] = await Promise.all([client.put('/api/preferences/theme', { theme: 'dark' }), client.post('/api/cart', { item: 'book' })]);
      expect(theme.status).toBe(200);
      expect(theme.body).toEqual({ theme: 'dark' });
      expect(cart.status).toBe(200);
      expect((await client.get('/api/preferences')).body).toEqual({ theme: 'dark', cart: ['book'] });
    },
  },
  {
    title: 'a request in flight cannot bring back a session revoked meanwhile (its cookie is cleared)',
    needs: 'writeDelay',
    async run({ signIn }) {
      const client = await signIn('bob', { deviceName: 'slow' });
      const other = await signIn('bob');
      const slow = client.put('/api/preferences/theme', { theme: 'dark' }); // waits WRITE_DELAY_MS before writing
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await other.post('/api/logout-all')).status).toBe(200);
      const response = await slow;
      expect(response.status).toBe(200);
      expectCleared(response, SID);
      expect((await client.clone().get('/api/profile')).status).toBe(401);
      expect((await devices(await signIn('bob'))).some((s) => s.deviceName === 'slow')).toBe(false);
    },
  },
  {
    title: 'remember-me: a 30-day cookie by default; it signs the user in again after every browser restart, with a new token each time, and ends at logout',
    async run({ app }) {
      const alice = new CookieClient(app.url);
      const login = await alice.post('/api/login', { username: 'alice', password: 'wonderland', rememberMe: true });
      const first = cookieAttributes(login.setCookies, REMEMBER);
      expect(first).toBeDefined();
      expect(Number(first!['max-age'])).toBe(DEFAULT_REMEMBER_ME_TTL);
      const seen = [first!.value as string];
      for (let restart = 0; restart < 2; restart++) {
        alice.cookies.delete(SID);
        const resumed = await alice.get('/api/profile');
        expect(resumed.status).toBe(200);
        expect(resumed.body.username).toBe('alice');
        expect(alice.cookies.get(SID)).toBeDefined();
        const token = alice.cookies.get(REMEMBER)!;
        expect(seen).not.toContain(token);
        seen.push(token);
      }

      const copy = alice.clone();
      copy.cookies.delete(SID);
      expect((await alice.get('/api/csrf-token')).status).toBe(200); // the resumed session's token (the jar keeps it)
      const logout = await alice.post('/api/logout');
      expect(logout.status).toBe(200);
      expectCleared(logout, REMEMBER);
      expect(alice.cookies.has(REMEMBER)).toBe(false);
      expect((await copy.get('/api/profile')).status).toBe(401);
    },
  },
  {
    title: 'guests: a visitor reads the defaults; a saved guest keeps one CSRF token and gets 401 from the signed-in routes; after login a new token and the same cart',
    async run({ app, signIn }) {
      const visitor = new CookieClient(app.url);
      expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'light', cart: [] });
      expect(visitor.cookies.size).toBe(0);

      expect((await visitor.post('/api/cart', { item: 'book' })).status).toBe(200);
      expect([...visitor.cookies.keys()]).toEqual([GUEST]);
      const { csrfToken } = (await visitor.get('/api/csrf-token')).body as { csrfToken: string };
      expect(csrfToken).toMatch(/^[\w-]{43}$/);
      expect((await visitor.get('/api/csrf-token')).body.csrfToken).toBe(csrfToken);
      expect((await visitor.get('/api/profile')).status).toBe(401);
      expect((await visitor.get('/api/sessions')).status).toBe(401);
      expect((await visitor.post('/api/logout-all')).status).toBe(401);

      const login = await visitor.post('/api/login', { username: 'carol', password: 'admin-carol' });
      expect(login.status).toBe(200);
      expect(login.body.csrfToken).not.toBe(csrfToken); // the session's own token
      expect([...visitor.cookies.keys()]).toEqual([SID]);
      expect((await visitor.post('/api/cart', { item: 'cup' })).body).toEqual({ cart: ['book', 'cup'] });
      expect((await visitor.get('/api/profile')).body).toMatchObject({ username: 'carol', roles: ['user', 'admin'] });
      await signIn('carol'); // carol can still sign in elsewhere
    },
  },
  {
    title: 'bad input answers 400 (an empty cart item, an unknown theme), stores nothing, and sets no cookie',
    async run({ app, signIn }) {
      const visitor = new CookieClient(app.url);
      for (const response of [await visitor.post('/api/cart', { item: '' }), await visitor.post('/api/cart', {}), await visitor.put('/api/preferences/theme', { theme: 'purple' })]) {
        expect(response.status).toBe(400);
        expect(typeof response.body.error).toBe('string');
        expect(response.setCookies).toEqual([]);
      }
      expect(visitor.cookies.size).toBe(0);

      const bob = await signIn('bob');
      expect((await bob.put('/api/preferences/theme', { theme: 'blue' })).status).toBe(400);
      expect((await bob.post('/api/cart', { item: '' })).status).toBe(400);
      expect((await bob.get('/api/preferences')).body).toEqual({ theme: 'light', cart: [] });
    },
  },
];

/**
 * Run every row of the table that the app has what it needs for, then `options.rows`, then
 * the cache-restart row, against one instance of the app, as a `describe` block.
 */
export function describeSessionRoutes(name: string, start: StartApp, options: SessionRoutesOptions): void {
  describe(`session route contract: ${name}`, () => {
    let server: ServerProcess | undefined;
    let app: AppProcess | undefined;
    let context: RouteContext;

    beforeAll(async () => {
      server = await startServer();
      app = await start(server.url, {
        COOKIE_SECURE: 'false',
        TRUST_PROXY: options.trustProxy ?? 'loopback',
        ...(options.capabilities.writeDelay ? { EXAMPLE_WRITE_DELAY_MS: String(WRITE_DELAY_MS) } : {}),
      });
      const url = app.url;
      context = {
        app,
        async signIn(username, extra = {}, client = new CookieClient(url)) {
          const response = await client.post('/api/login', { username, password: PASSWORDS[username], ...extra });
          expect(response.status, JSON.stringify(response.body)).toBe(200);
          return client;
        },
      };
    });

    afterAll(async () => {
      await app?.stop();
      await server?.stop();
    });

    for (const row of [...ROUTE_ROWS, ...(options.rows ?? [])]) {
      if (row.needs && !options.capabilities[row.needs]) continue; // the app's test file says why
      it(row.title, () => row.run(context));
    }

    // Last: it stops the shared Lix server.
    it('cache restart: while the cache is down a request without a session still works; after it is back (empty) on the same port the app reaches it again', async () => {
      const alice = await context.signIn('alice');
      const port = server!.port;
      await server!.stop();
      server = undefined;

      expect((await alice.get('/api/profile')).status).toBe(503); // the 503 itself: the security table
      const nobody = new CookieClient(context.app.url);
      const profile = await nobody.get('/api/profile');
      expect(profile.status).toBe(401); // nothing needs the store without a cookie
      expect(profile.body).toEqual({ error: 'Not authenticated' });
      expect((await nobody.get('/health')).body).toEqual({ status: 'ok' });
      await options.whileCacheDown?.({ ...context, signedIn: alice });
      expect(alice.cookies.has(SID)).toBe(true);

      server = await startServer({ port }); // an empty in-memory server: the old sessions are gone
      const back = await waitFor(
        async () => {
          const response = await alice.get('/api/profile');
          return response.status !== 503 ? response : undefined;
        },
        { what: 'the app to reach the cache again' },
      );
      expect(back!.status).toBe(401);
      expectCleared(back!, SID);
      expect(alice.cookies.has(SID)).toBe(false);
      await context.signIn('alice', {}, alice);
      expect((await alice.get('/api/profile')).body.username).toBe('alice');
    });
  });
}
