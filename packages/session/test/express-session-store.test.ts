import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import express from 'express';
import session from 'express-session';
import { LixCache, LixConnectionError } from 'lix-cache-sdk';
import { LixSessionStore, type StoredExpressSession } from 'lix-cache-session/express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../../../test/helpers/cookie-jar';
import { freePort } from '../../../test/helpers/free-port';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

// express-session with LixSessionStore, as a connect-redis user would switch, over a real Lix server.
let server: ServerProcess;
let cache: LixCache;
let http: Server | undefined;

beforeAll(async () => {
  server = await startServer();
  cache = new LixCache({ url: server.url });
});

afterAll(async () => {
  await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
  await cache?.close();
  await server?.stop();
});

/** The data express-session keeps in `req.session`, read without its global typing. */
type Data = Record<string, unknown> & { regenerate(cb: (error?: unknown) => void): void; destroy(cb: (error?: unknown) => void): void };
const data = (req: express.Request) => req.session as unknown as Data;

describe('LixSessionStore under express-session', () => {
  it('is a drop-in store: login, read, logout; TTL from cookie.maxAge; ids stored hashed', async () => {
    const store = new LixSessionStore({ cache, prefix: 'es1:' });
    const app = express();
    app.use(express.json());
    app.use(session({ store, secret: 'test-secret-at-least-32-bytes-long!!', resave: false, saveUninitialized: false, cookie: { secure: false, maxAge: 60_000 } }));
    app.post('/login', (req, res, next) => {
      data(req).regenerate((error) => {
        if (error) return next(error);
        data(req).user = { id: 'user-1', name: 'alice' };
        res.json({ ok: true });
      });
    });
    app.get('/me', (req, res) => {
      const user = data(req).user;
      if (!user) return void res.status(401).json({ error: 'Not authenticated' });
      res.json({ user, sid: req.sessionID });
    });
    app.post('/visit', (req, res) => {
      data(req).visits = Number(data(req).visits ?? 0) + 1;
      res.json({ visits: data(req).visits });
    });
    app.post('/logout', (req, res, next) => data(req).destroy((error) => (error ? next(error) : res.json({ ok: true }))));
    http = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => http!.once('listening', resolve));
    const client = new CookieClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);

    expect((await client.get('/me')).status).toBe(401);
    expect((await client.post('/login')).status).toBe(200);
    const me = await client.get('/me');
    expect(me.body.user).toEqual({ id: 'user-1', name: 'alice' });
    await client.post('/visit');
    expect((await client.post('/visit')).body.visits).toBe(2);

    const sid = me.body.sid as string;
    const entry = await cache.getEntry<StoredExpressSession & { user: unknown }>(`es1:${sha256(sid)}`);
    expect(entry!.value.user).toEqual({ id: 'user-1', name: 'alice' });
    expect(entry!.ttl).toBeGreaterThan(50);
    expect(entry!.ttl).toBeLessThanOrEqual(60);
    const { keys } = await cache.scan({ prefix: 'es1:', keysOnly: true });
    expect(keys.join()).not.toContain(sid);

    expect((await client.post('/logout')).status).toBe(200);
    expect(await cache.exists(`es1:${sha256(sid)}`)).toBe(false);
    expect((await client.get('/me')).status).toBe(401);
  });
});

describe('LixSessionStore API', () => {
  const cookie = (seconds: number) => ({ expires: new Date(Date.now() + seconds * 1000).toISOString(), originalMaxAge: seconds * 1000 });

  it('implements get, set, touch, destroy, all, length, ids and clear', async () => {
    const store = new LixSessionStore({ cache, prefix: 'es2:' });
    const get = promisify(store.get.bind(store));
    const set = promisify(store.set.bind(store));
    const touch = promisify(store.touch.bind(store));
    const destroy = promisify(store.destroy.bind(store));
    const all = promisify(store.all.bind(store));
    const length = promisify(store.length.bind(store));
    const ids = promisify(store.ids.bind(store));
    const clear = promisify(store.clear.bind(store));

    expect(await get('missing')).toBeNull();
    await set('sid-a', { cookie: cookie(30), user: 'a' } as StoredExpressSession);
    await set('sid-b', { cookie: cookie(30), user: 'b' } as StoredExpressSession);
    await set('sid-c', { cookie: { originalMaxAge: null }, user: 'c' } as StoredExpressSession); // no expiry: the default ttl
    expect(await get('sid-a')).toMatchObject({ user: 'a' });
    expect(await length()).toBe(3);
    expect((await all())!.map((s: { user: string }) => s.user).sort()).toEqual(['a', 'b', 'c']);
    // The ids are not stored, only their hashes: ids() gives those, marked "sha256:".
    expect((await ids())!.sort()).toEqual([sha256('sid-a'), sha256('sid-b'), sha256('sid-c')].map((hash) => `sha256:${hash}`).sort());
    expect((await cache.getEntry(`es2:${sha256('sid-c')}`))!.ttl).toBeGreaterThan(86_000);

    await touch('sid-a', { cookie: cookie(600) });
    expect((await cache.getEntry(`es2:${sha256('sid-a')}`))!.ttl).toBeGreaterThan(500);
    await destroy('sid-b');
    expect(await get('sid-b')).toBeNull();
    // A session whose cookie already expired is deleted rather than stored.
    await set('sid-a', { cookie: { expires: new Date(Date.now() - 1000).toISOString() } });
    expect(await get('sid-a')).toBeNull();

    const other = new LixSessionStore({ cache, prefix: 'es3:' });
    await promisify(other.set.bind(other))('sid-z', { cookie: cookie(30) });
    await clear();
    expect(await length()).toBe(0);
    expect(await promisify(other.length.bind(other))()).toBe(1);
  });

  it('lets a session expire with its cookie', async () => {
    const store = new LixSessionStore({ cache, prefix: 'es4:' });
    await promisify(store.set.bind(store))('short', { cookie: { expires: new Date(Date.now() + 1000).toISOString() } });
    expect(await promisify(store.get.bind(store))('short')).not.toBeNull();
    await waitFor(async () => (await promisify(store.get.bind(store))('short')) === null, { what: 'the session to expire with its cookie' });
  });

  it('reports cache failures to the callback, and bad options at construction', async () => {
    const port = await freePort();
    const store = new LixSessionStore({ cache: new LixCache({ url: `http://127.0.0.1:${port}`, maxRetries: 0, timeout: 1000 }) });
    await expect(promisify(store.get.bind(store))('sid')).rejects.toThrow(LixConnectionError);
    expect(() => new LixSessionStore({ ttl: 0 })).toThrow(/"ttl" must be a positive number/);
    expect(() => new LixSessionStore({ prefix: 5 as never })).toThrow(/"prefix" must be a string such as "sess:" \("" for none\); got 5/);
    expect(() => new LixSessionStore({ cache: 1 as never })).toThrow(/LixCache client or a URL/);
    await store.cache.close();
  });
});
