/**
 * The session security table: one list of rows, run end to end over real HTTP against
 * every example app (examples/<framework>-sessions), each started as its own process
 * against a real lix-cache-server. Every example follows the same route contract (see
 * examples/express-sessions/README.md), so the rows hold for all of them alike:
 * new id at login, no fixation (guests included), cookie flags, CSRF, revoking only
 * one's own sessions, remember-me rotation and theft, idle and absolute timeouts,
 * guest sessions, and 503 (never a signed-out answer) when the cache is down.
 *
 * An example's test file calls it with a function that starts that example:
 *
 * ```ts
 * import { describeSessionSecurity } from '../../../test/session-security/table';
 * import { startExample } from './example-process';
 *
 * describeSessionSecurity('express', startExample);
 * ```
 *
 * `start(cacheUrl, env)` must start the app on a free port with `LIX_CACHE_URL=cacheUrl`
 * plus `env` (COOKIE_SECURE, SESSION_IDLE_TIMEOUT, ...) and resolve once `/health` answers;
 * `startAppProcess` (test/helpers/app-process.ts) does that for any command:
 *
 * ```ts
 * describeSessionSecurity('fastify', (cacheUrl, env) =>
 *   startAppProcess({ command: [process.execPath, '--import', 'tsx', 'src/server.ts'], cwd: EXAMPLE_DIR, cacheUrl, env }),
 * );
 * ```
 *
 * The table starts five instances of the app (plain and secure cookies, short idle and
 * absolute timeouts, one on a Lix server the cache-down row stops) and two Lix servers,
 * once and in parallel, and shares them between its rows, which run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppProcess } from '../helpers/app-process';
import { CookieClient, cookieAttributes, type ClientResponse } from '../helpers/cookie-jar';
import { startServer, type ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/wait-for';

export type { AppProcess };

/** Starts one instance of an example app: `LIX_CACHE_URL=cacheUrl` plus `env`, on a free port. */
export type StartApp = (cacheUrl: string, env: Record<string, string>) => Promise<AppProcess>;

/** The apps the rows run against, each started once per table. */
export interface SecurityApps {
  /** Plain-HTTP cookies (`lix.sid`), default timeouts, REMEMBER_ME_TTL=600. Most rows use it. */
  main: AppProcess;
  /** COOKIE_SECURE=true (`__Host-lix.sid`). */
  secure: AppProcess;
  /** SESSION_IDLE_TIMEOUT=2 s. */
  idle: AppProcess;
  /** SESSION_ABSOLUTE_TIMEOUT=2 s, a long idle timeout. */
  absolute: AppProcess;
  /** Its own Lix server, which the cache-down row stops. */
  down: AppProcess;
  downServer: ServerProcess;
}

/** One row: one `it()`, run the same way for every adapter. */
export interface SecurityRow {
  title: string;
  run(apps: SecurityApps): Promise<void>;
}

const SID = 'lix.sid';
const SECURE_SID = '__Host-lix.sid';
const REMEMBER = 'lix.remember';
const SECURE_REMEMBER = '__Host-lix.remember';
const GUEST = 'lix.guest';
const SECURE_GUEST = '__Host-lix.guest';
/** A well-formed session id (43 base64url characters) that no login ever issued. */
const PLANTED = 'A'.repeat(43);
const PASSWORDS: Record<string, string> = { alice: 'wonderland', bob: 'builder', carol: 'admin-carol' };
const REMEMBER_ME_TTL = 600;

async function signIn(app: AppProcess, username: string, extra: Record<string, unknown> = {}): Promise<CookieClient> {
  const client = new CookieClient(app.url);
  const response = await client.post('/api/login', { username, password: PASSWORDS[username], ...extra });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return client;
}

/** The attributes of cookie `name` on a response, which must be there. */
function cookieOn(response: ClientResponse, name: string): Record<string, string | true> {
  const cookie = cookieAttributes(response.setCookies, name);
  expect(cookie, `Set-Cookie ${name} in ${JSON.stringify(response.setCookies)}`).toBeDefined();
  return cookie!;
}

function expectCleared(response: ClientResponse, name: string): void {
  expect(cookieOn(response, name)['max-age']).toBe('0');
}

/** Poll GET /api/profile until it answers 401 (at most 8 s); resolves with that response. */
async function signedOut(client: CookieClient, { intervalMs, what }: { intervalMs: number; what: string }): Promise<ClientResponse> {
  let last: ClientResponse | undefined;
  await waitFor(async () => (last = await client.get('/api/profile')).status === 401, { timeoutMs: 8000, intervalMs, what });
  return last!;
}

/** A visitor who put `item` in the cart without signing in: a saved guest session, and its CSRF token. */
async function guestWithCart(app: AppProcess, item: string): Promise<CookieClient> {
  const guest = new CookieClient(app.url);
  const added = await guest.post('/api/cart', { item }); // the first write: no cookie yet, nothing to forge
  expect(added.status, JSON.stringify(added.body)).toBe(200);
  expect(guest.cookies.has(GUEST) || guest.cookies.has(SECURE_GUEST)).toBe(true);
  expect((await guest.get('/api/csrf-token')).status).toBe(200); // the jar keeps the token it returns
  return guest;
}

/** A token of the same length that differs in its last character. */
function tampered(token: string): string {
  return token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
}

export const SECURITY_ROWS: SecurityRow[] = [
  {
    title: 'login issues a new session id: a planted id is not adopted, and every login gets a fresh one',
    async run({ main }) {
      const victim = new CookieClient(main.url);
      victim.cookies.set(SID, PLANTED); // planted by an attacker before the victim signs in
      expect((await victim.post('/api/login', { username: 'bob', password: 'builder' })).status).toBe(200);
      const first = victim.cookies.get(SID)!;
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first).not.toBe(PLANTED);
      const attacker = new CookieClient(main.url);
      attacker.cookies.set(SID, PLANTED);
      expect((await attacker.get('/api/profile')).status).toBe(401);

      expect((await victim.post('/api/login', { username: 'bob', password: 'builder' })).status).toBe(200);
      expect([PLANTED, first]).not.toContain(victim.cookies.get(SID));
      expect((await victim.get('/api/profile')).body.username).toBe('bob');
    },
  },
  {
    title: 'fixation: a session cookie from before a login stops working after it',
    async run({ main }) {
      const client = await signIn(main, 'alice');
      const before = client.clone(); // what an attacker copied before the (second) login
      expect((await client.post('/api/login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
      expect(client.cookies.get(SID)).not.toBe(before.cookies.get(SID));
      const stale = await before.get('/api/profile');
      expect(stale.status).toBe(401);
      expectCleared(stale, SID);
      expect((await client.get('/api/profile')).status).toBe(200);
    },
  },
  {
    title: 'fixation (guests): login replaces the guest cookie’s id, and a copy of the guest cookie signs nobody in',
    async run({ main }) {
      const guest = await guestWithCart(main, 'book');
      const guestId = guest.cookies.get(GUEST)!;
      const copy = guest.clone();
      const login = await guest.post('/api/login', { username: 'alice', password: 'wonderland' });
      expect(login.status).toBe(200);
      expectCleared(login, GUEST);
      expect(cookieOn(login, SID).value).not.toBe(guestId);
      expect([...guest.cookies.values()]).not.toContain(guestId);

      const stale = await copy.get('/api/cart'); // the guest session ended at login
      expect(stale.body).toEqual({ cart: [] });
      expectCleared(stale, GUEST);
      expect((await copy.get('/api/profile')).status).toBe(401);
    },
  },
  {
    title: 'cookie flags with COOKIE_SECURE=true: __Host-lix.sid (and .remember, .guest), Secure, HttpOnly, SameSite=Lax, Path=/, no Domain',
    async run({ secure }) {
      const client = new CookieClient(secure.url);
      const login = await client.post('/api/login', { username: 'alice', password: 'wonderland', rememberMe: true });
      expect(login.status).toBe(200);
      expect(cookieAttributes(login.setCookies, SID)).toBeUndefined();
      const guest = await new CookieClient(secure.url).post('/api/cart', { item: 'book' });
      expect(cookieAttributes(guest.setCookies, GUEST)).toBeUndefined();
      for (const [response, name] of [[login, SECURE_SID], [login, SECURE_REMEMBER], [guest, SECURE_GUEST]] as const) {
        const cookie = cookieOn(response, name);
        expect(cookie.secure).toBe(true);
        expect(cookie.httponly).toBe(true);
        expect(String(cookie.samesite).toLowerCase()).toBe('lax');
        expect(cookie.path).toBe('/');
        expect(cookie.domain).toBeUndefined();
      }
      expect((await client.get('/api/profile')).status).toBe(200);
    },
  },
  {
    title: 'cookie flags with COOKIE_SECURE=false: lix.sid and lix.guest, HttpOnly, SameSite=Lax, Path=/, not Secure',
    async run({ main }) {
      const login = await new CookieClient(main.url).post('/api/login', { username: 'alice', password: 'wonderland' });
      expect(login.status).toBe(200);
      expect(cookieAttributes(login.setCookies, SECURE_SID)).toBeUndefined();
      const cookie = cookieOn(login, SID);
      expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits
      expect(cookie.httponly).toBe(true);
      expect(String(cookie.samesite).toLowerCase()).toBe('lax');
      expect(cookie.path).toBe('/');
      expect(cookie.secure).toBeUndefined();
      expect(cookie.domain).toBeUndefined();
      const guest = await new CookieClient(main.url).post('/api/cart', { item: 'book' });
      const guestCookie = cookieOn(guest, GUEST);
      expect(guestCookie.httponly).toBe(true);
      expect(String(guestCookie.samesite).toLowerCase()).toBe('lax');
      expect(guestCookie.path).toBe('/');
    },
  },
  {
    title: 'CSRF: with a session, an unsafe request without the token or with a wrong one is 403; the right one passes; login needs none',
    async run({ main }) {
      const client = new CookieClient(main.url);
      const login = await client.post('/api/login', { username: 'bob', password: 'builder' }, { csrf: false });
      expect(login.status).toBe(200); // no session yet: nothing to forge
      const token = login.body.csrfToken as string;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const missing = await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: false });
      expect(missing.status).toBe(403);
      expect(missing.body.error).toBe('Invalid CSRF token');
      expect((await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: tampered(token) })).status).toBe(403);
      const other = await signIn(main, 'bob'); // another session's token does not fit this one
      expect((await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: other.csrfToken! })).status).toBe(403);
      expect((await client.get('/api/preferences')).body.theme).toBe('light');

      expect((await client.put('/api/preferences/theme', { theme: 'dark' }, { csrf: token })).status).toBe(200);
      expect((await client.get('/api/preferences')).body.theme).toBe('dark');
      // HTML forms send it as a csrfToken body field instead.
      expect((await client.put('/api/preferences/theme', { theme: 'light', csrfToken: token }, { csrf: false })).status).toBe(200);
      expect((await client.get('/api/csrf-token')).body.csrfToken).toBe(token);
    },
  },
  {
    title: 'CSRF (guests): once a guest session is saved, its unsafe requests (login included) need its token too',
    async run({ main }) {
      const guest = await guestWithCart(main, 'book');
      const token = guest.csrfToken!;
      expect((await guest.post('/api/cart', { item: 'pen' }, { csrf: false })).status).toBe(403);
      expect((await guest.post('/api/cart', { item: 'pen' }, { csrf: tampered(token) })).status).toBe(403);
      expect((await guest.put('/api/preferences/theme', { theme: 'dark' }, { csrf: false })).status).toBe(403);
      expect((await guest.get('/api/cart')).body).toEqual({ cart: ['book'] });
      expect((await guest.post('/api/cart', { item: 'pen' }, { csrf: token })).body).toEqual({ cart: ['book', 'pen'] });
      // Logging in from a guest session is an unsafe request of that session as well.
      expect((await guest.post('/api/login', { username: 'bob', password: 'builder' }, { csrf: false })).status).toBe(403);
      expect((await guest.post('/api/login', { username: 'bob', password: 'builder' }, { csrf: token })).status).toBe(200);
    },
  },
  {
    title: 'IDOR: bob cannot revoke alice’s session by its handle (404), and alice stays signed in',
    async run({ main }) {
      const alice = await signIn(main, 'alice', { deviceName: 'Alice’s laptop' });
      const bob = await signIn(main, 'bob');
      const { body } = await alice.get('/api/sessions');
      const handle = body.sessions.find((s: { current: boolean }) => s.current).id as string;
      expect(handle).not.toBe(alice.cookies.get(SID)); // a handle, never the session id

      const attempt = await bob.delete(`/api/sessions/${encodeURIComponent(handle)}`);
      expect(attempt.status).toBe(404);
      expect(attempt.body).toEqual({ error: 'Session not found' });
      expect((await alice.get('/api/profile')).status).toBe(200);
      expect((await alice.get('/api/sessions')).body.sessions.some((s: { id: string }) => s.id === handle)).toBe(true);
      expect((await bob.delete('/api/sessions/not-a-handle')).status).toBe(404);
    },
  },
  {
    title: 'remember-me: each use rotates the token; replaying a used one is theft and signs the user out everywhere',
    async run({ main }) {
      const laptop = await signIn(main, 'carol');
      const phone = new CookieClient(main.url);
      const login = await phone.post('/api/login', { username: 'carol', password: 'admin-carol', rememberMe: true });
      const remember = cookieOn(login, REMEMBER);
      expect(remember.httponly).toBe(true);
      expect(Number(remember['max-age'])).toBe(REMEMBER_ME_TTL);
      const stolen = remember.value as string;
      const thief = new CookieClient(main.url);
      thief.cookies.set(REMEMBER, stolen);

      // The browser restarts: no session cookie, the remember-me cookie signs carol in again.
      phone.cookies.delete(SID);
      const resumed = await phone.get('/api/profile');
      expect(resumed.status).toBe(200);
      expect(resumed.body.username).toBe('carol');
      expect(phone.cookies.get(SID)).toBeDefined();
      expect(phone.cookies.get(REMEMBER)).not.toBe(stolen);

      // The thief replays the used token: refused, and every session of carol's ends.
      const replay = await thief.get('/api/profile');
      expect(replay.status).toBe(401);
      expectCleared(replay, REMEMBER);
      expect((await phone.get('/api/profile')).status).toBe(401);
      expect((await laptop.get('/api/profile')).status).toBe(401);
      phone.cookies.delete(SID);
      expect((await phone.get('/api/profile')).status).toBe(401); // its rotated token is revoked too
    },
  },
  {
    title: 'idle timeout: a used session slides past SESSION_IDLE_TIMEOUT, an unused one ends and its cookie is cleared',
    async run({ idle }) {
      const client = await signIn(idle, 'alice');
      // Used every 300 ms for 3 s (past the 2 s idle timeout): each use slides it.
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        expect((await client.get('/api/profile')).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      // Polled 2.5 s apart, longer than the idle timeout: a probe that still finds it slides it again.
      const expired = await signedOut(client, { intervalMs: 2500, what: 'the idle session to expire' });
      expectCleared(expired, SID);
    },
  },
  {
    title: 'absolute timeout: an active session ends SESSION_ABSOLUTE_TIMEOUT after login, and the cookie lives no longer',
    async run({ absolute }) {
      const before = Date.now();
      const client = new CookieClient(absolute.url);
      const login = await client.post('/api/login', { username: 'alice', password: 'wonderland' });
      expect(cookieOn(login, SID)['max-age']).toBe('2');
      const expired = await signedOut(client, { intervalMs: 200, what: 'the absolute timeout' }); // polling keeps it active
      // The session was created after `before`, so it cannot have ended sooner than 2 s after it.
      expect(Date.now() - before).toBeGreaterThanOrEqual(2000);
      expectCleared(expired, SID);
    },
  },
  {
    title: 'guest sessions: reading sets no cookie, the first write does; login keeps the cart, drops the theme, under a new id',
    async run({ main }) {
      const visitor = new CookieClient(main.url);
      const look = await visitor.get('/api/cart');
      expect(look.status).toBe(200);
      expect(look.body).toEqual({ cart: [] });
      expect(look.setCookies).toEqual([]); // nothing written, nothing stored

      const added = await visitor.post('/api/cart', { item: 'book' });
      expect(added.body).toEqual({ cart: ['book'] });
      const guestId = cookieOn(added, GUEST).value as string;
      expect((await visitor.get('/api/csrf-token')).status).toBe(200);
      expect((await visitor.put('/api/preferences/theme', { theme: 'dark' })).status).toBe(200);
      expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'dark', cart: ['book'] });

      expect((await visitor.post('/api/login', { username: 'bob', password: 'builder' })).status).toBe(200);
      expect(visitor.cookies.has(GUEST)).toBe(false);
      expect(visitor.cookies.get(SID)).not.toBe(guestId);
      expect((await visitor.get('/api/preferences')).body).toEqual({ theme: 'light', cart: ['book'] });
      expect((await visitor.get('/api/profile')).body.username).toBe('bob');
    },
  },
  {
    title: 'cache down: requests with a session answer 503 with Retry-After and a JSON body, never as signed out',
    async run({ down, downServer }) {
      const alice = await signIn(down, 'alice');
      const guest = await guestWithCart(down, 'book');
      expect((await alice.get('/api/profile')).status).toBe(200);
      await downServer.stop();

      const responses = [
        await alice.get('/api/profile'),
        await alice.get('/api/sessions'),
        await alice.put('/api/preferences/theme', { theme: 'dark' }),
        await guest.get('/api/cart'),
        await guest.post('/api/cart', { item: 'pen' }),
        await new CookieClient(down.url).post('/api/cart', { item: 'pen' }), // a new guest's first write cannot be stored
      ];
      for (const response of responses) {
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(response.body.error).toBe('Session store unavailable');
        expect(typeof response.body.message).toBe('string');
      }
      // Nothing is cleared while the store cannot answer.
      expect(alice.cookies.has(SID)).toBe(true);
      expect(guest.cookies.has(GUEST)).toBe(true);
      const login = await new CookieClient(down.url).post('/api/login', { username: 'bob', password: 'builder' });
      expect(login.status).toBe(503);
      expect(login.body.error).toBe('Session store unavailable');
    },
  },
];

/**
 * Run every row of the table against one example app, as a `describe` block. `start`
 * starts that app (see the top of this file); it is called five times, in parallel.
 */
export function describeSessionSecurity(name: string, start: StartApp): void {
  describe(`session security table: ${name}`, () => {
    const servers: ServerProcess[] = [];
    const started: AppProcess[] = [];
    let apps: SecurityApps;

    beforeAll(async () => {
      const [server, downServer] = await Promise.all([startServer(), startServer()]);
      servers.push(server, downServer);
      const launch = async (cacheUrl: string, env: Record<string, string>) => {
        const app = await start(cacheUrl, { COOKIE_SECURE: 'false', REMEMBER_ME_TTL: String(REMEMBER_ME_TTL), ...env });
        started.push(app);
        return app;
      };
      const [main, secure, idle, absolute, down] = await Promise.all([
        launch(server.url, {}),
        launch(server.url, { COOKIE_SECURE: 'true' }),
        launch(server.url, { SESSION_IDLE_TIMEOUT: '2' }),
        launch(server.url, { SESSION_ABSOLUTE_TIMEOUT: '2', SESSION_IDLE_TIMEOUT: '60' }),
        launch(downServer.url, {}),
      ]);
      apps = { main, secure, idle, absolute, down, downServer };
    });

    afterAll(async () => {
      await Promise.all(started.map((app) => app.stop()));
      await Promise.all(servers.map((server) => server.stop()));
    });

    for (const row of SECURITY_ROWS) it(row.title, () => row.run(apps));
  });
}
