import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore, type SessionStoreOptions } from 'lix-cache-session';
import { csrfProtection, lixSession, sessionErrorHandler, type LixSessionOptions } from 'lix-cache-session/fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { freePort } from '../../../test/helpers/free-port';
import { startServer } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

// The plugin in-process, on a real Fastify server listening on a free port, over real HTTP.
const apps: FastifyInstance[] = [];
let counter = 0;

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

// request.session is typed app-wide (Register); in this repo the example app registers its
// own data shape, so these library tests read and write sessions as plain records.
type AnySession = Record<string, unknown> & { userId: string; csrfToken: string };
const sessionOf = (request: FastifyRequest) => request.session as unknown as AnySession | undefined;
const guestOf = (request: FastifyRequest) => request.guest as unknown as (Record<string, unknown> & { csrfToken: string }) | undefined;
const login = (request: FastifyRequest, user: Record<string, unknown> & { userId: string }, options?: { rememberMe?: boolean }) =>
  request.login(user as never, options) as unknown as Promise<AnySession>;

function memoryStore(options: SessionStoreOptions = {}): SessionStore {
  return new SessionStore({ cache: `memory://fastify-${++counter}`, ...options });
}

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

type Body = Record<string, unknown> | undefined;

/** Routes that use the session: login, a field-setting route, a session echo, logout. */
function routes(app: FastifyInstance, store: SessionStore): void {
  app.post('/login', async (request) => {
    const body = request.body as Body;
    const session = await login(request, { userId: String(body?.userId ?? 'user-1'), name: 'Alice' }, { rememberMe: body?.rememberMe === true });
    return { csrfToken: session.csrfToken };
  });
  app.post('/login-echo', async (request) => {
    const before = { session: request.session ?? null, sessionId: request.sessionId ?? null };
    const session = await login(request, { userId: 'echo', name: 'Echo' });
    // The getters follow the request's state: signed in now, under the new id.
    return { before, same: request.session === (session as unknown), userId: sessionOf(request)?.userId, sessionId: request.sessionId };
  });
  app.get('/me', async (request, reply) => {
    if (!request.session) return reply.code(401).send({ error: 'Not authenticated' });
    return { session: sessionOf(request), sessionId: request.sessionId };
  });
  app.post('/cart', async (request) => {
    const target = sessionOf(request) ?? guestOf(request);
    if (!target) return { cart: null };
    if (!target.cart) target.cart = []; // assigned: written as a whole
    (target.cart as string[]).push(String((request.body as Body)?.item)); // later requests change it in place
    return { cart: target.cart };
  });
  app.delete('/cart', async (request) => {
    const target = sessionOf(request) ?? guestOf(request);
    if (target) target.cart = [];
    return { cart: [] };
  });
  app.get('/cart', async (request) => ({ cart: (sessionOf(request) ?? guestOf(request))?.cart ?? [], guestToken: guestOf(request)?.csrfToken }));
  app.put('/theme', async (request) => {
    const target = sessionOf(request) ?? guestOf(request)!;
    target.theme = (request.body as Body)?.theme;
    return { theme: target.theme };
  });
  app.post('/forget', async (request) => {
    delete sessionOf(request)!.name;
    return { ok: true };
  });
  app.post('/tamper', async (request) => {
    sessionOf(request)!.userId = 'admin';
    return { ok: true };
  });
  app.post('/logout', async (request) => {
    await request.logout();
    return { ok: true };
  });
  app.post('/logout-all', async (request) => ({ ended: await request.logoutAll() }));
  app.get('/sessions', async (request) => store.list(sessionOf(request)!.userId, { currentId: request.sessionId }));
}

/** A small app: the plugin, CSRF on every route, the 503 error handler, and the routes above. */
async function appWith(options: LixSessionOptions, serverOptions: FastifyServerOptions = {}): Promise<string> {
  const app = Fastify(serverOptions);
  await app.register(lixSession, options);
  app.addHook('preHandler', csrfProtection());
  app.setErrorHandler(sessionErrorHandler());
  routes(app, options.store as SessionStore);
  return listen(app);
}

describe('cookies', () => {
  it('are HttpOnly, Secure, SameSite=Lax, Path=/ and __Host- prefixed by default, Max-Age from the store', async () => {
    const client = new CookieClient(await appWith({ store: memoryStore({ absoluteTimeout: 7200 }) }));
    const response = await client.post('/login', {});
    expect(response.status).toBe(200);
    const cookie = cookieAttributes(response.setCookies, '__Host-lix.sid')!;
    expect(cookie).toMatchObject({ httponly: true, secure: true, samesite: 'Lax', path: '/', 'max-age': '7200' });
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie.domain).toBeUndefined();
    expect((await client.get('/me')).status).toBe(200);
  });

  it('drop the __Host- prefix and Secure when secure is false (plain-HTTP development)', async () => {
    const client = new CookieClient(await appWith({ store: memoryStore({ ttl: 600, absoluteTimeout: false }), cookie: { secure: false, sameSite: 'strict' } }));
    const cookie = cookieAttributes((await client.post('/login', {})).setCookies, 'lix.sid')!;
    expect(cookie).toMatchObject({ httponly: true, samesite: 'Strict', 'max-age': '600' });
    expect(cookie.secure).toBeUndefined();
  });
});

describe('login, profile, logout', () => {
  it('signs in under a new id, serves the session, and logs out for good', async () => {
    const store = memoryStore();
    const client = new CookieClient(await appWith({ store, cookie: { secure: false } }));
    expect((await client.get('/me')).status).toBe(401);
    // A planted id is not adopted at login (no session fixation).
    client.cookies.set('lix.sid', 'A'.repeat(43));
    const response = await client.post('/login', {});
    expect(response.status).toBe(200);
    const id = client.cookies.get('lix.sid')!;
    expect(id).not.toBe('A'.repeat(43));
    const me = await client.get('/me');
    expect(me.status).toBe(200);
    expect(me.body.sessionId).toBe(id);
    expect(me.body.session).toMatchObject({ userId: 'user-1', name: 'Alice', csrfToken: response.body.csrfToken });

    const stolen = client.clone();
    const logout = await client.post('/logout');
    expect(logout.status).toBe(200);
    expect(cookieAttributes(logout.setCookies, 'lix.sid')!['max-age']).toBe('0');
    expect((await client.get('/me')).status).toBe(401);
    expect((await stolen.get('/me')).status).toBe(401);
    expect(await store.get(id)).toBeNull();
  });

  it('updates request.session and request.sessionId within the request that signs in', async () => {
    const client = new CookieClient(await appWith({ store: memoryStore(), cookie: { secure: false } }));
    const { body } = await client.post('/login-echo', {});
    expect(body).toEqual({ before: { session: null, sessionId: null }, same: true, userId: 'echo', sessionId: client.cookies.get('lix.sid') });
  });

  it('logs out every device with logoutAll', async () => {
    const url = await appWith({ store: memoryStore(), cookie: { secure: false } });
    const phone = new CookieClient(url);
    const laptop = new CookieClient(url);
    await phone.post('/login', { userId: 'u-all' });
    await laptop.post('/login', { userId: 'u-all' });
    expect((await phone.post('/logout-all')).body).toEqual({ ended: 2 });
    expect((await phone.get('/me')).status).toBe(401);
    expect((await laptop.get('/me')).status).toBe(401);
  });
});

describe('session changes', () => {
  it('writes assigned, in-place changed and deleted fields before the response; refuses managed ones', async () => {
    const client = new CookieClient(await appWith({ store: memoryStore(), cookie: { secure: false } }));
    await client.post('/login', {});
    await client.post('/cart', { item: 'book' });
    await client.post('/cart', { item: 'pen' });
    expect((await client.get('/me')).body.session.cart).toEqual(['book', 'pen']);
    await client.post('/forget');
    expect((await client.get('/me')).body.session.name).toBeNull();
    const tamper = await client.post('/tamper');
    expect(tamper.status).toBe(500);
    expect(tamper.body.message).toMatch(/userId is managed by lix-cache-session/);
    expect((await client.get('/me')).body.session.userId).toBe('user-1');
  });

  it('answers 500 "Session not saved" when a change does not match the schema, and keeps the stored session', async () => {
    const schema = z.looseObject({ userId: z.string(), theme: z.enum(['light', 'dark']).optional() });
    const errors: unknown[] = [];
    const client = new CookieClient(await appWith({ store: new SessionStore({ cache: `memory://fastify-${++counter}`, schema }) as unknown as SessionStore, cookie: { secure: false }, onSaveError: (error) => errors.push(error) }));
    await client.post('/login', {});
    expect((await client.put('/theme', { theme: 'dark' })).status).toBe(200);
    const bad = await client.put('/theme', { theme: 'purple' });
    expect(bad.status).toBe(500);
    expect(bad.body).toEqual({ error: 'Session not saved', message: 'The session data does not match its schema.' });
    expect(errors).toHaveLength(1);
    expect((await client.get('/me')).body.session.theme).toBe('dark');
  });
});

describe('guest sessions', () => {
  it('are stored on the first write only, need CSRF once stored, and carry only the kept fields into the login', async () => {
    const store = memoryStore();
    const client = new CookieClient(await appWith({ store, cookie: { secure: false }, guest: { keep: ['cart'] } }));
    // Reading creates nothing: no cookie, nothing stored.
    const read = await client.get('/cart');
    expect(read.status).toBe(200);
    expect(read.body.cart).toEqual([]);
    expect(read.setCookies).toEqual([]);
    expect((await store.metrics()).totalSessions).toBe(0);

    // The first write stores the guest session and sets its cookie; no token needed yet (nothing to forge).
    const first = await client.post('/cart', { item: 'book' }, { csrf: false });
    expect(first.status).toBe(200);
    const guestCookie = first.setCookies.find((line) => !line.startsWith('lix.sid='));
    expect(guestCookie).toMatch(/HttpOnly/);
    expect(client.cookies.size).toBe(1);

    // Now the guest session exists: unsafe requests need its token.
    expect((await client.post('/cart', { item: 'pen' }, { csrf: false })).status).toBe(403);
    const token = (await client.get('/cart')).body.guestToken as string;
    expect((await client.post('/cart', { item: 'pen' }, { csrf: token })).body.cart).toEqual(['book', 'pen']);
    expect((await client.put('/theme', { theme: 'dark' }, { csrf: token })).status).toBe(200);

    const signedIn = await client.post('/login', {}, { csrf: token });
    expect(signedIn.status).toBe(200);
    const me = (await client.get('/me')).body.session;
    expect(me.cart).toEqual(['book', 'pen']);
    expect(me.theme).toBeUndefined();
    // The guest cookie is cleared at login: only the session cookie is left.
    expect([...client.cookies.keys()]).toEqual(['lix.sid']);
  });

  it('are off by default: request.guest is undefined', async () => {
    const client = new CookieClient(await appWith({ store: memoryStore(), cookie: { secure: false } }));
    expect((await client.post('/cart', { item: 'book' })).body).toEqual({ cart: null });
    expect(client.cookies.size).toBe(0);
  });
});

describe('CSRF', () => {
  it('needs the session token on unsafe requests, from the x-csrf-token header or the csrfToken body field', async () => {
    const client = new CookieClient(await appWith({ store: memoryStore(), cookie: { secure: false } }));
    // Login carries no session yet: it passes without a token.
    const token = (await client.post('/login', {}, { csrf: false })).body.csrfToken as string;
    const missing = await client.post('/cart', { item: 'x' }, { csrf: false });
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({ error: 'Invalid CSRF token', message: expect.stringMatching(/missing/) });
    const wrong = await client.post('/cart', { item: 'x' }, { csrf: 'B'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toMatch(/does not match/);
    expect((await client.request('DELETE', '/cart', { csrf: false })).status).toBe(403);
    expect((await client.post('/cart', { item: 'header' }, { csrf: token })).status).toBe(200);
    expect((await client.post('/cart', { item: 'field', csrfToken: token }, { csrf: false })).status).toBe(200);
    // Safe methods pass without one.
    expect((await client.get('/me', { csrf: false })).body.session.cart).toEqual(['header', 'field']);
  });

  it('works as a route-level preHandler with a custom header', async () => {
    const app = Fastify();
    await app.register(lixSession, { store: memoryStore(), cookie: { secure: false } });
    app.post('/login', async (request) => ({ token: (await login(request, { userId: 'u' })).csrfToken }));
    app.post('/guarded', { preHandler: csrfProtection({ header: 'X-XSRF-Token' }) }, async () => ({ ok: true }));
    app.post('/open', async () => ({ ok: true }));
    const client = new CookieClient(await listen(app));
    const { token } = (await client.post('/login', {})).body as { token: string };
    expect((await client.post('/guarded', {}, { csrf: false })).status).toBe(403);
    expect((await client.post('/guarded', {}, { csrf: false, headers: { 'x-xsrf-token': token } })).status).toBe(200);
    expect((await client.post('/open', {}, { csrf: false })).status).toBe(200);
  });

  it('refuses bad options, and a route the plugin does not cover, with clear errors', async () => {
    expect(() => csrfProtection({ header: '' })).toThrow(TypeError);
    expect(() => csrfProtection({ header: '' })).toThrow(/"header" must be a header name/);
    const app = Fastify();
    app.post('/unguarded', { preHandler: csrfProtection() }, async () => ({ ok: true }));
    const response = await new CookieClient(await listen(app)).post('/unguarded', {});
    expect(response.status).toBe(500);
    expect(response.body.message).toMatch(/needs the lixSession plugin registered/);
  });
});

describe('remember-me and the client address', () => {
  it('signs a remembered user in again, and refuses one loadUser no longer knows', async () => {
    let known = true;
    const store = memoryStore();
    const client = new CookieClient(await appWith({ store, cookie: { secure: false }, rememberMe: { loadUser: (userId) => (known ? { userId, name: 'Alice' } : null) } }));
    await client.post('/login', { rememberMe: true });
    expect(client.cookies.has('lix.remember')).toBe(true);
    client.cookies.delete('lix.sid');
    expect((await client.get('/me')).body.session.name).toBe('Alice');
    client.cookies.delete('lix.sid');
    known = false;
    expect((await client.get('/me')).status).toBe(401);
    expect(client.cookies.has('lix.remember')).toBe(false);
  });

  it('takes the client address from request.ip: X-Forwarded-For only with Fastify\'s trustProxy', async () => {
    const store = memoryStore();
    const plain = new CookieClient(await appWith({ store, cookie: { secure: false } }));
    await plain.post('/login', { userId: 'ip-1' }, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect((await plain.get('/sessions')).body[0].lastIP).toMatch(/127\.0\.0\.1$/);
    const proxied = new CookieClient(await appWith({ store, cookie: { secure: false } }, { trustProxy: '127.0.0.1' }));
    await proxied.post('/login', { userId: 'ip-2' }, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect((await proxied.get('/sessions', { headers: { 'x-forwarded-for': '203.0.113.9' } })).body[0].lastIP).toBe('203.0.113.9');
  });
});

describe('encapsulation', () => {
  it('serves two stores in two encapsulated contexts, each with its own cookie, and none outside them', async () => {
    const storeA = memoryStore();
    const storeB = memoryStore();
    const app = Fastify();
    for (const [prefix, store] of [['/a', storeA], ['/b', storeB]] as const) {
      await app.register(
        async (scope) => {
          await scope.register(lixSession, { store, cookie: { secure: false, name: `${prefix.slice(1)}.sid`, rememberName: `${prefix.slice(1)}.remember` } });
          // Routes next to the plugin see its decorators (fastify-plugin), in this context only.
          routes(scope, store);
        },
        { prefix },
      );
    }
    app.get('/outside', async (request) => ({ hasSession: 'session' in request, login: typeof (request as { login?: unknown }).login }));
    const client = new CookieClient(await listen(app));

    await client.post('/a/login', { userId: 'alice' });
    expect([...client.cookies.keys()]).toEqual(['a.sid']);
    expect((await client.get('/a/me')).body.session.userId).toBe('alice');
    expect((await client.get('/b/me')).status).toBe(401);
    await client.post('/b/login', { userId: 'bob' }, { csrf: false });
    expect((await client.get('/b/me')).body.session.userId).toBe('bob');
    expect((await client.get('/a/me')).body.session.userId).toBe('alice');
    expect(await storeA.list('alice')).toHaveLength(1);
    expect(await storeB.list('alice')).toHaveLength(0);
    expect(await storeB.list('bob')).toHaveLength(1);
    expect((await client.get('/outside')).body).toEqual({ hasSession: false, login: 'undefined' });
  });

  it('refuses a second registration in the same or a child context with a clear error', async () => {
    const store = memoryStore();
    const twice = Fastify();
    twice.register(lixSession, { store });
    twice.register(lixSession, { store });
    await expect(twice.ready()).rejects.toThrow(/request.session is already declared in this context/);
    await twice.close();

    const nested = Fastify();
    nested.register(lixSession, { store });
    nested.register(async (child) => {
      await child.register(lixSession, { store });
    });
    await expect(nested.ready()).rejects.toThrow(/Register lixSession once per encapsulated context/);
    await nested.close();
  });
});

describe('bad plugin options', () => {
  it.each([
    ['no options', undefined, /needs a SessionStore/],
    ['no store', {}, /needs a SessionStore/],
    ['a store that is not a SessionStore', { store: { get() {} } }, /needs a SessionStore/],
    ['a __Host- cookie that is not secure', { cookie: { name: '__Host-sid', secure: false } }, /__Host- prefix, so it must be secure/],
    ['SameSite=None without Secure', { cookie: { sameSite: 'none', secure: false } }, /needs secure: true/],
    ['rememberMe without loadUser', { rememberMe: {} }, /loadUser/],
    ['guest that is not an object', { guest: 'yes' }, /"guest" must be true, false or \{ keep/],
    ['guest.keep that is not field names', { guest: { keep: 'cart' } }, /guest.keep must be an array/],
  ])('%s: a TypeError at ready()', async (_name, options, message) => {
    const app = Fastify();
    const withStore = options && !('store' in options) && Object.keys(options).length ? { store: memoryStore(), ...options } : options;
    app.register(lixSession, withStore as never);
    const error = await app.ready().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    await app.close();
  });
});

describe('when the cache is unreachable', () => {
  it('answers 503 with Retry-After to requests with a session cookie and to login, and passes requests without one', async () => {
    const port = await freePort();
    const store = new SessionStore({ cache: new LixCache({ url: `http://127.0.0.1:${port}`, maxRetries: 0, timeout: 1000 }) });
    const loadErrors: [unknown, string][] = [];
    const client = new CookieClient(await appWith({ store, cookie: { secure: false }, onLoadError: (error, request) => loadErrors.push([error, request.url]) }));
    expect((await client.get('/me')).status).toBe(401);
    // The route's request.login() fails: sessionErrorHandler() turns it into the 503.
    const response = await client.post('/login', {});
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ error: 'Session store unavailable', message: expect.stringMatching(/try again/i) });
    expect(response.headers.get('retry-after')).toBe('5');
    // The onRequest hook cannot read the session: 503 before the route, the cookie kept.
    client.cookies.set('lix.sid', 'A'.repeat(43));
    const me = await client.get('/me');
    expect(me.status).toBe(503);
    expect(me.body.error).toBe('Session store unavailable');
    expect(me.headers.get('retry-after')).toBe('5');
    expect(me.setCookies).toEqual([]);
    expect(loadErrors).toHaveLength(1);
    expect(loadErrors[0]![1]).toBe('/me');
    expect(String((loadErrors[0]![0] as Error).cause)).toMatch(/ECONNREFUSED/);
    await store.close();
  });

  it('hands other errors to the next error handler', async () => {
    const app = Fastify();
    await app.register(lixSession, { store: memoryStore(), cookie: { secure: false } });
    app.setErrorHandler(sessionErrorHandler((error, _request, reply) => reply.code(418).send({ mine: error.message })));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    expect((await new CookieClient(await listen(app)).get('/boom')).body).toEqual({ mine: 'boom' });
    expect(() => sessionErrorHandler('nope' as never)).toThrow(TypeError);
  });

  it('answers 503, not 200, when a session change cannot be saved because the cache went down mid-request', async () => {
    const server = await startServer();
    let release!: () => void;
    let entered = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = new SessionStore({ cache: new LixCache({ url: server.url, maxRetries: 0, timeout: 1000 }) });
    const app = Fastify();
    await app.register(lixSession, { store, cookie: { secure: false }, onSaveError: () => {} });
    app.post('/login', async (request) => ({ token: (await login(request, { userId: 'u' })).csrfToken }));
    app.post('/slow-write', async (request) => {
      entered = true;
      await gate;
      sessionOf(request)!.theme = 'dark';
      return { ok: true };
    });
    const client = new CookieClient(await listen(app));
    try {
      expect((await client.post('/login', {})).status).toBe(200);
      const pending = client.post('/slow-write', {});
      await waitFor(() => entered, { what: 'the route to start' });
      await server.stop();
      release();
      const response = await pending;
      expect(response.status).toBe(503);
      expect(response.body.error).toBe('Session store unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
