import { createHash } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySession, { type FastifySessionObject, type SessionStore } from '@fastify/session';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { LixCache } from 'lix-cache-sdk';
import { LixSessionStore } from 'lix-cache-session/express-session';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { CookieClient } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';

declare module 'fastify' {
  interface Session {
    user?: { id: string; name: string };
    visits?: number;
  }
}

/**
 * @fastify/session's `request.session`, read without the global typing: this repository's
 * program also holds lix-cache-session/fastify's `request.session`, and one declaration wins.
 */
const sessionOf = (request: FastifyRequest) => request.session as unknown as FastifySessionObject;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

// LixSessionStore under @fastify/session (fastify 5), over real HTTP, against a real Lix server.
let server: ServerProcess;
let cache: LixCache;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  server = await startServer();
  cache = new LixCache({ url: server.url });
});

afterAll(async () => {
  await app?.close();
  await cache?.close();
  await server?.stop();
});

describe('LixSessionStore under @fastify/session', () => {
  it("satisfies @fastify/session's store interface (callbacks)", () => {
    expectTypeOf<LixSessionStore>().toExtend<SessionStore>();
  });

  it('set data, read it back, regenerate (the old id stops working), destroy; TTL from the cookie maxAge; ids stored hashed', async () => {
    const store = new LixSessionStore({ cache: server.url, prefix: 'fs:' });
    app = Fastify();
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      store,
      secret: 'a-secret-of-at-least-32-characters!!',
      saveUninitialized: false,
      cookie: { secure: false, maxAge: 60_000 },
    });
    app.addHook('onClose', async () => store.cache.close());
    app.post('/login', async (request) => {
      await sessionOf(request).regenerate();
      sessionOf(request).set('user', { id: 'user-1', name: 'alice' });
      return { ok: true };
    });
    app.get('/me', async (request, reply) => {
      const user = sessionOf(request).get('user');
      if (!user) return reply.code(401).send({ error: 'Not authenticated' });
      return { user, sid: sessionOf(request).sessionId, visits: sessionOf(request).get('visits') ?? 0 };
    });
    app.post('/visit', async (request) => {
      sessionOf(request).set('visits', (sessionOf(request).get('visits') ?? 0) + 1);
      return { visits: sessionOf(request).get('visits') };
    });
    app.post('/regenerate', async (request) => {
      await sessionOf(request).regenerate(['user', 'visits']);
      return { sid: sessionOf(request).sessionId };
    });
    app.post('/logout', async (request) => {
      await sessionOf(request).destroy();
      return { ok: true };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const client = new CookieClient(url);

    expect((await client.get('/me')).status).toBe(401);
    expect((await client.post('/login')).status).toBe(200);
    const me = await client.get('/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual({ id: 'user-1', name: 'alice' });
    await client.post('/visit');
    expect((await client.post('/visit')).body.visits).toBe(2);
    expect((await client.get('/me')).body.visits).toBe(2);

    // The TTL follows the cookie's maxAge (60 s); the key holds the hash of the id, never the id.
    const sid = me.body.sid as string;
    const entry = await cache.getEntry<{ user: unknown; cookie: { originalMaxAge: number } }>(`fs:${sha256(sid)}`);
    expect(entry!.value.user).toEqual({ id: 'user-1', name: 'alice' });
    expect(entry!.value.cookie.originalMaxAge).toBe(60_000);
    expect(entry!.ttl).toBeGreaterThan(50);
    expect(entry!.ttl).toBeLessThanOrEqual(60);
    const { keys } = await cache.scan({ prefix: 'fs:', keysOnly: true });
    expect(keys).toEqual([`fs:${sha256(sid)}`]);

    // regenerate: a new id with the same data; the old cookie no longer finds a session.
    const before = client.clone();
    const regenerated = await client.post('/regenerate');
    const newSid = regenerated.body.sid as string;
    expect(newSid).not.toBe(sid);
    expect((await client.get('/me')).body).toMatchObject({ user: { id: 'user-1', name: 'alice' }, sid: newSid, visits: 2 });
    expect(await cache.exists(`fs:${sha256(sid)}`)).toBe(false);
    expect((await before.get('/me')).status).toBe(401);

    // destroy: the session is gone from the cache and the cookie no longer signs anybody in.
    expect((await client.post('/logout')).status).toBe(200);
    expect(await cache.exists(`fs:${sha256(newSid)}`)).toBe(false);
    expect((await client.get('/me')).status).toBe(401);
    expect(await store.length()).toBe(0);
  });
});
