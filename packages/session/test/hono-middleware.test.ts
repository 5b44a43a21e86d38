import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore, type SessionStoreOptions } from 'lix-cache-session';
import { csrfProtection, lixSession, login, logout, logoutAll, type HonoSessionOptions, type LixSessionEnv } from 'lix-cache-session/hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { freePort } from '../../../test/helpers/free-port';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

// The Hono middleware in-process, served on Node by @hono/node-server over real HTTP, against a
// real lix-cache-server (and memory:// where the cache is not the point).

type Data = { userId: string; name: string; theme?: string; cart?: string[]; visits?: number };
type Env = LixSessionEnv<Data>;

let cache: ServerProcess;
const servers: ServerType[] = [];
const stores: SessionStore<Data>[] = [];
let counter = 0;

beforeAll(async () => {
  cache = await startServer();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  await cache?.stop();
});

function serverStore(options: Omit<SessionStoreOptions<Data>, 'cache'> = {}): SessionStore<Data> {
  // Each store its own key prefix on the shared server.
  const store = new SessionStore<Data>({ prefix: `hono-${++counter}:`, ...options, cache: new LixCache({ url: cache.url, maxRetries: 0, timeout: 2000 }) });
  stores.push(store);
  return store;
}

async function listen(app: Hono<Env>): Promise<string> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  servers.push(server);
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A small app: login, profile, field writes, logout. */
function appWith(options: HonoSessionOptions<Data>, configure?: (app: Hono<Env>) => void): Hono<Env> {
  const app = new Hono<Env>();
  app.use(lixSession(options));
  app.use(csrfProtection());
  configure?.(app);
  app.post('/login', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { userId?: string; rememberMe?: boolean; device?: string };
    const session = await login(c, { userId: body.userId ?? 'user-1', name: 'Alice' }, { rememberMe: body.rememberMe === true, device: body.device ? { name: body.device } : undefined });
    // The context follows the login at once.
    return c.json({ csrfToken: session.csrfToken, same: c.get('session') === session, sessionId: c.get('sessionId') !== undefined });
  });
  app.get('/profile', (c) => {
    const session = c.get('session');
    if (!session) return c.json({ error: 'Not authenticated' }, 401);
    return c.json({ userId: session.userId, name: session.name, theme: session.theme ?? null, visits: session.visits ?? 0 });
  });
  app.get('/csrf-token', (c) => c.json({ csrfToken: (c.get('session') ?? c.get('guest'))?.csrfToken }));
  app.put('/theme', async (c) => {
    const { theme } = (await c.req.json()) as { theme: string };
    c.get('session')!.theme = theme;
    return c.json({ theme });
  });
  app.post('/visit', (c) => {
    const session = c.get('session')!;
    session.visits = (session.visits ?? 0) + 1;
    return c.json({ visits: session.visits });
  });
  app.post('/logout', async (c) => {
    await logout(c);
    return c.json({ signedIn: c.get('session') !== undefined });
  });
  app.post('/logout-all', async (c) => c.json({ ended: await logoutAll(c) }));
  return app;
}

describe('lixSession() on Node (@hono/node-server), against a Lix server', () => {
  it('signs in, shows the profile, and signs out; the cookie is HttpOnly, SameSite=Lax, and a new id each login', async () => {
    const client = new CookieClient(await listen(appWith({ store: serverStore(), cookie: { secure: false } })));
    expect((await client.get('/profile')).status).toBe(401);

    const first = await client.post('/login', {});
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ csrfToken: expect.stringMatching(/^[\w-]{43}$/), same: true, sessionId: true });
    const cookie = cookieAttributes(first.setCookies, 'lix.sid')!;
    expect(cookie).toMatchObject({ httponly: true, samesite: 'Lax', path: '/' });
    expect(cookie.secure).toBeUndefined();
    const firstId = client.cookies.get('lix.sid');

    expect((await client.get('/profile')).body).toEqual({ userId: 'user-1', name: 'Alice', theme: null, visits: 0 });
    await client.post('/login', {});
    expect(client.cookies.get('lix.sid')).not.toBe(firstId); // no session fixation

    const out = await client.post('/logout');
    expect(out.body).toEqual({ signedIn: false });
    expect(cookieAttributes(out.setCookies, 'lix.sid')).toMatchObject({ value: '', 'max-age': '0' });
    expect((await client.get('/profile')).status).toBe(401);
  });

  it('defaults to a Secure __Host- cookie', async () => {
    const client = new CookieClient(await listen(appWith({ store: serverStore() })));
    const response = await client.post('/login', {});
    expect(cookieAttributes(response.setCookies, '__Host-lix.sid')).toMatchObject({ secure: true, httponly: true, path: '/', samesite: 'Lax' });
  });

  it('writes the changed fields after the route, and parallel changes to different fields both persist', async () => {
    const store = serverStore();
    const client = new CookieClient(await listen(appWith({ store, cookie: { secure: false } })));
    await client.post('/login', {});
    const [theme, visit] = await Promise.all([client.put('/theme', { theme: 'dark' }), client.post('/visit')]);
    expect([theme.status, visit.status]).toEqual([200, 200]);
    // Nothing to write: no Set-Cookie on a request that changed nothing.
    const profile = await client.get('/profile');
    expect(profile.body).toEqual({ userId: 'user-1', name: 'Alice', theme: 'dark', visits: 1 });
    expect(profile.setCookies).toEqual([]);
    expect(await store.get(client.cookies.get('lix.sid')!)).toMatchObject({ theme: 'dark', visits: 1 });
  });

  it('creates a guest session on its first write only, and keeps its `keep` fields at login', async () => {
    const app = appWith({ store: serverStore(), cookie: { secure: false }, guest: { keep: ['cart'] } }, (app) => {
      app.get('/cart', (c) => c.json({ cart: (c.get('session') ?? c.get('guest'))?.cart ?? [], csrfToken: (c.get('session') ?? c.get('guest'))?.csrfToken }));
      app.post('/cart', async (c) => {
        const { item } = (await c.req.json()) as { item: string };
        const holder = (c.get('session') ?? c.get('guest'))!;
        holder.cart = [...(holder.cart ?? []), item];
        return c.json({ cart: holder.cart });
      });
      app.put('/guest-theme', (c) => {
        c.get('guest')!.theme = 'dark';
        return c.json({ ok: true });
      });
    });
    const visitor = new CookieClient(await listen(app));
    const read = await visitor.get('/cart');
    expect(read.body.cart).toEqual([]);
    expect(read.setCookies).toEqual([]); // reading stores nothing

    const added = await visitor.post('/cart', { item: 'book' });
    expect(added.body).toEqual({ cart: ['book'] });
    expect(cookieAttributes(added.setCookies, 'lix.guest')).toMatchObject({ httponly: true, samesite: 'Lax' });
    // Once saved, the guest session needs its CSRF token: the saved guest's, read again.
    expect((await visitor.post('/cart', { item: 'pen' }, { csrf: false })).status).toBe(403);
    const token = (await visitor.get('/csrf-token')).body.csrfToken;
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(visitor.csrfToken).toBe(token);
    expect((await visitor.post('/cart', { item: 'pen' })).body).toEqual({ cart: ['book', 'pen'] });
    expect((await visitor.put('/guest-theme', {})).status).toBe(200);

    const signedIn = await visitor.post('/login', {});
    expect(signedIn.status).toBe(200);
    expect(cookieAttributes(signedIn.setCookies, 'lix.guest')).toMatchObject({ value: '', 'max-age': '0' });
    expect((await visitor.get('/cart')).body.cart).toEqual(['book', 'pen']);
    expect((await visitor.get('/profile')).body.theme).toBeNull(); // not in `keep`
  });

  it('checks CSRF: missing and wrong tokens get 403; the header or a JSON or form body field passes, and the route still reads the body', async () => {
    const app = appWith({ store: serverStore(), cookie: { secure: false } }, (app) => {
      app.post('/echo-json', async (c) => c.json({ got: await c.req.json() }));
      app.post('/echo-form', async (c) => c.json({ got: await c.req.parseBody() }));
      app.post('/echo-raw', async (c) => c.json({ got: await c.req.raw.text() }));
    });
    const client = new CookieClient(await listen(app));
    expect((await client.post('/echo-json', { a: 1 })).status).toBe(200); // no session: nothing to forge
    const { body } = await client.post('/login', {});
    const token = body.csrfToken as string;

    const missing = await client.post('/echo-json', { a: 1 }, { csrf: false });
    expect(missing.status).toBe(403);
    expect(missing.body).toMatchObject({ error: 'Invalid CSRF token', message: expect.stringMatching(/missing/) });
    const wrong = await client.post('/echo-json', { a: 1 }, { csrf: 'A'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toMatch(/does not match/);
    expect((await client.post('/echo-json', { a: 1 })).body).toEqual({ got: { a: 1 } });

    expect((await client.post('/echo-json', { a: 2, csrfToken: token }, { csrf: false })).body).toEqual({ got: { a: 2, csrfToken: token } });
    expect((await client.post('/echo-json', { a: 2, csrfToken: 'nope' }, { csrf: false })).status).toBe(403);
    expect((await client.post('/echo-raw', { csrfToken: token }, { csrf: false })).body).toEqual({ got: JSON.stringify({ csrfToken: token }) });

    const cookie = `lix.sid=${client.cookies.get('lix.sid')}`;
    const form = await fetch(`${client.baseUrl}/echo-form`, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ csrfToken: token, item: 'tea' }) });
    expect(form.status).toBe(200);
    expect(await form.json()).toEqual({ got: { csrfToken: token, item: 'tea' } });
    const multipart = new FormData();
    multipart.set('csrfToken', token);
    multipart.set('item', 'cake');
    const upload = await fetch(`${client.baseUrl}/echo-form`, { method: 'POST', headers: { cookie }, body: multipart });
    expect(await upload.json()).toEqual({ got: { csrfToken: token, item: 'cake' } });
    const badForm = await fetch(`${client.baseUrl}/echo-form`, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ csrfToken: 'x' }) });
    expect(badForm.status).toBe(403);

    // Safe methods pass without a token.
    expect((await client.get('/profile', { csrf: false })).status).toBe(200);
  });

  it('signs a remembered user in again after the session cookie is gone, and logoutAll ends every session', async () => {
    const store = serverStore();
    const app = appWith({ store, cookie: { secure: false }, rememberMe: { loadUser: (userId) => ({ name: `Remembered ${userId}` }) } });
    const url = await listen(app);
    const laptop = new CookieClient(url);
    const phone = new CookieClient(url);
    await laptop.post('/login', { userId: 'user-r', rememberMe: true });
    await phone.post('/login', { userId: 'user-r' });
    expect(laptop.cookies.has('lix.remember')).toBe(true);

    laptop.cookies.delete('lix.sid');
    const again = await laptop.get('/profile');
    expect(again.body).toMatchObject({ userId: 'user-r', name: 'Remembered user-r' });
    expect(again.setCookies.some((line) => line.startsWith('lix.sid='))).toBe(true);
    // A new session, so a new CSRF token: the old one no longer passes.
    expect((await laptop.post('/logout-all')).status).toBe(403);
    await laptop.get('/csrf-token');

    // The laptop's first session (its cookie dropped, not ended), its resumed one, the phone's.
    expect((await laptop.post('/logout-all')).body).toEqual({ ended: 3 });
    expect((await phone.get('/profile')).status).toBe(401);
    laptop.cookies.delete('lix.sid');
    expect((await laptop.get('/profile')).status).toBe(401); // the remember-me token ended too
  });

  it('records the client address from the clientIp option (getConnInfo on Node)', async () => {
    const store = serverStore();
    const client = new CookieClient(await listen(appWith({ store, cookie: { secure: false }, clientIp: (c) => getConnInfo(c).remote.address })));
    await client.post('/login', { device: 'Laptop' });
    const [device] = await store.list('user-1');
    expect(device).toMatchObject({ deviceName: 'Laptop', lastIP: '127.0.0.1' });
  });

  it('takes the client address from X-Forwarded-For only through proxies it trusts (trustProxy)', async () => {
    const clientIp = (c: Context) => getConnInfo(c).remote.address;
    const trusting = serverStore();
    const direct = serverStore();
    const behindProxy = new CookieClient(await listen(appWith({ store: trusting, cookie: { secure: false }, clientIp, trustProxy: 'loopback' })));
    const spoofing = new CookieClient(await listen(appWith({ store: direct, cookie: { secure: false }, clientIp })));
    const forwarded = { headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' } };
    await behindProxy.post('/login', {}, forwarded);
    await spoofing.post('/login', {}, forwarded);
    expect((await trusting.list('user-1'))[0]!.lastIP).toBe('203.0.113.9'); // the nearest untrusted hop
    expect((await direct.list('user-1'))[0]!.lastIP).toBe('127.0.0.1'); // no trust: the header is ignored
  });
});

describe('when the cache is unreachable', () => {
  it('answers 503 with Retry-After to a request with a session cookie and to a login, and passes requests without one', async () => {
    const port = await freePort();
    const store = new SessionStore<Data>({ cache: new LixCache({ url: `http://127.0.0.1:${port}`, maxRetries: 0, timeout: 1000 }) });
    stores.push(store);
    const loadErrors: [unknown, string][] = [];
    const client = new CookieClient(await listen(appWith({ store, cookie: { secure: false }, onLoadError: (error, c) => loadErrors.push([error, c.req.path]) })));
    expect((await client.get('/profile')).status).toBe(401);

    const signIn = await client.post('/login', {});
    expect(signIn.status).toBe(503); // thrown in the route: Hono's 500 becomes a 503
    expect(signIn.headers.get('retry-after')).toBe('5');
    expect(signIn.body.error).toBe('Session store unavailable');

    client.cookies.set('lix.sid', 'A'.repeat(43));
    const profile = await client.get('/profile');
    expect(profile.status).toBe(503);
    expect(profile.headers.get('retry-after')).toBe('5');
    expect(profile.headers.get('content-type')).toMatch(/^application\/json/);
    expect(profile.body.message).toMatch(/unreachable/);
    expect(loadErrors).toHaveLength(1);
    expect(loadErrors[0]![1]).toBe('/profile');
    expect(String((loadErrors[0]![0] as Error).cause)).toMatch(/ECONNREFUSED/);
  });

  it('answers 503, not the route\'s 200, when a session change cannot be saved because the cache went down mid-request', async () => {
    const server = await startServer();
    let release!: () => void;
    let entered = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = new SessionStore<Data>({ cache: new LixCache({ url: server.url, maxRetries: 0, timeout: 1000 }) });
    stores.push(store);
    const saveErrors: unknown[] = [];
    const app = appWith({ store, cookie: { secure: false }, onSaveError: (error) => saveErrors.push(error) }, (app) => {
      app.put('/slow-theme', async (c) => {
        entered = true;
        await gate;
        c.get('session')!.theme = 'dark';
        c.header('ETag', '"abc"');
        return c.json({ ok: true });
      });
    });
    const client = new CookieClient(await listen(app));
    expect((await client.post('/login', {})).status).toBe(200);
    const pending = client.put('/slow-theme', {});
    await waitFor(() => entered, { what: 'the route to start' });
    await server.stop();
    release();
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.body.error).toBe('Session store unavailable');
    expect(response.headers.get('etag')).toBeNull(); // nothing of the route's answer is left
    expect(saveErrors).toHaveLength(1);
  });
});

describe('options and misuse', () => {
  it('rejects bad options with a TypeError that says what to pass', () => {
    const store = new SessionStore<Data>({ cache: 'memory://hono-options' });
    stores.push(store);
    expect(() => lixSession(undefined as never)).toThrow(TypeError);
    expect(() => lixSession(undefined as never)).toThrow(/SessionStore/);
    expect(() => lixSession({} as never)).toThrow(/needs a SessionStore/);
    expect(() => lixSession({ store: {} as never })).toThrow(/needs a SessionStore/);
    expect(() => lixSession({ store, clientIp: '127.0.0.1' as never })).toThrow(/clientIp must be a function.*getConnInfo/);
    expect(() => lixSession({ store, trustProxy: 'loopback' })).toThrow(/trustProxy needs clientIp/);
    expect(() => lixSession({ store, clientIp: () => undefined, trustProxy: 'not an address' })).toThrow(TypeError);
    expect(() => lixSession({ store, cookie: { sameSite: 'sometimes' as never } })).toThrow(/sameSite must be 'lax', 'strict' or 'none'/);
    expect(() => lixSession({ store, guest: { keep: 'cart' as never } })).toThrow(/guest.keep must be an array/);
    expect(() => lixSession({ store, rememberMe: {} as never })).toThrow(/loadUser/);
    expect(() => csrfProtection({ header: '' })).toThrow(/"header" must be a header name/);
  });

  it('tells a route that calls login(c) without the middleware what to mount', async () => {
    const app = new Hono();
    app.post('/login', async (c) => c.json(await login(c, { userId: 'u' })));
    app.onError((error, c) => c.json({ message: error.message }, 500));
    const response = await app.fetch(new Request('http://app.test/login', { method: 'POST' }));
    expect((await response.json()) as unknown).toEqual({ message: expect.stringMatching(/needs the lixSession\(\) middleware.*app\.use\(lixSession\(\{ store \}\)\)/) });
  });
});

describe('the web-standard path: app.fetch(Request), no Node server', () => {
  it('signs in, reads the profile, checks CSRF and signs out through Request and Response objects', async () => {
    const store = new SessionStore<Data>({ cache: `memory://hono-fetch-${++counter}` });
    stores.push(store);
    const app = appWith({ store, cookie: { secure: false } });
    const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
      app.fetch(new Request(`http://app.test${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) }));

    expect((await call('GET', '/profile')).status).toBe(401);
    const signIn = await call('POST', '/login', {}, { userId: 'user-9' });
    expect(signIn.status).toBe(200);
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const lines = signIn.headers.getSetCookie();
    expect(lines).toHaveLength(1);
    const cookie = lines[0]!.split(';')[0]!;
    expect(cookie).toMatch(/^lix\.sid=[\w-]{43}$/);

    expect(await (await call('GET', '/profile', { cookie })).json()).toMatchObject({ userId: 'user-9', name: 'Alice' });
    expect((await call('PUT', '/theme', { cookie }, { theme: 'dark' })).status).toBe(403);
    expect((await call('PUT', '/theme', { cookie, 'x-csrf-token': csrfToken }, { theme: 'dark' })).status).toBe(200);
    expect(await (await call('GET', '/profile', { cookie })).json()).toMatchObject({ theme: 'dark' });
    const out = await call('POST', '/logout', { cookie, 'x-csrf-token': csrfToken });
    expect(out.headers.getSetCookie()[0]).toMatch(/^lix\.sid=; Max-Age=0/);
    expect((await call('GET', '/profile', { cookie })).status).toBe(401);
  });

  it('puts its cookies on a response whose headers are immutable (Response.redirect, a proxied fetch)', async () => {
    const store = new SessionStore<Data>({ cache: `memory://hono-fetch-${++counter}` });
    stores.push(store);
    const app = new Hono<Env>();
    app.use(lixSession({ store, cookie: { secure: false } }));
    app.post('/login', async (c) => {
      await login(c, { userId: 'user-1', name: 'Alice' });
      return Response.redirect('http://app.test/profile', 303);
    });
    const response = await app.fetch(new Request('http://app.test/login', { method: 'POST' }));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('http://app.test/profile');
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^lix\.sid=[\w-]{43}; /)]);
  });
});
