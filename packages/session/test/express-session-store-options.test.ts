import { createHash } from 'node:crypto';
import { LixCache, LixConnectionError } from 'lix-cache-sdk';
import { LixSessionStore, type Serializer } from 'lix-cache-session/express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/free-port';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const cookie = (seconds: number) => ({ expires: new Date(Date.now() + seconds * 1000).toISOString(), originalMaxAge: seconds * 1000 });
const noExpiry = { cookie: { originalMaxAge: null } };

// connect-redis 9's options and promise API on LixSessionStore, over a real Lix server.
let server: ServerProcess;
let cache: LixCache;

beforeAll(async () => {
  server = await startServer();
  cache = new LixCache({ url: server.url });
});

afterAll(async () => {
  await cache?.close();
  await server?.stop();
});

describe('promise API (connect-redis 9)', () => {
  it('every method resolves its result when called without a callback', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p1:' });
    expect(await store.get('missing')).toBeNull();
    expect(await store.set('sid', { cookie: cookie(60), n: 1 } as never)).toBeUndefined();
    expect(await store.get('sid')).toMatchObject({ n: 1 });
    await store.touch('sid', { cookie: cookie(120) });
    expect((await cache.getEntry(`p1:${sha256('sid')}`))!.ttl).toBeGreaterThan(100);
    expect(await store.length()).toBe(1);
    expect(await store.ids()).toEqual([`sha256:${sha256('sid')}`]);
    expect(await store.all()).toEqual([{ id: `sha256:${sha256('sid')}`, n: 1, cookie: expect.objectContaining({ originalMaxAge: 60_000 }) }]);
    await store.destroy('sid');
    expect(await store.get('sid')).toBeNull();
    await store.set('other', { cookie: cookie(60) });
    await store.clear();
    expect(await store.length()).toBe(0);
  });

  it('with a callback, calls it and resolves to what it returns; errors go to the callback, not the promise', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p2:' });
    await store.set('sid', { cookie: cookie(60), n: 2 } as never);
    const seen: unknown[] = [];
    const returned = await store.get('sid', (error, session) => {
      seen.push(error, session);
      return 'from the callback';
    });
    expect(returned).toBe('from the callback');
    expect(seen).toEqual([null, expect.objectContaining({ n: 2 })]);
    expect(await store.length((error, n) => [error, n])).toEqual([null, 1]);

    const down = new LixSessionStore({ cache: new LixCache({ url: `http://127.0.0.1:${await freePort()}`, maxRetries: 0, timeout: 1000 }) });
    await expect(down.get('sid')).rejects.toThrow(LixConnectionError);
    let failure: unknown;
    await expect(down.get('sid', (error) => void (failure = error))).resolves.toBeUndefined();
    expect(failure).toBeInstanceOf(LixConnectionError);
    await down.cache.close();
  });

  it('stores the session as it was when set was called, even if it changes before the write is done', async () => {
    // memory:// writes after a tick without copying the value; the Lix server's client encodes at once.
    for (const store of [new LixSessionStore({ cache, prefix: 'p12:' }), new LixSessionStore({ cache: 'memory://snapshot', prefix: 'p12:' })]) {
      const session = { cookie: cookie(60), step: 1 };
      const pending = store.set('sid', session);
      session.step = 2;
      await pending;
      expect(await store.get('sid')).toMatchObject({ step: 1 });
      if (store.cache !== cache) await store.cache.close();
    }
  });
});

describe('options (connect-redis 9)', () => {
  it('prefix "": keys are the bare hashes, and clear() still deletes only this store\'s sessions', async () => {
    const store = new LixSessionStore({ cache, prefix: '' });
    expect(store.prefix).toBe('');
    await cache.set('unrelated', 'kept');
    await store.set('sid', { cookie: cookie(60) });
    expect(await cache.exists(sha256('sid'))).toBe(true);
    expect(await store.ids()).toEqual([`sha256:${sha256('sid')}`]);
    await store.clear();
    expect(await cache.exists(sha256('sid'))).toBe(false);
    expect(await cache.get('unrelated')).toBe('kept');
  });

  it('scanCount sets the page size: length(), ids() and all() walk every page', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p3:', scanCount: 2 });
    expect(store.scanCount).toBe(2);
    for (let i = 0; i < 7; i++) await store.set(`sid-${i}`, { cookie: cookie(60) });
    expect(await store.length()).toBe(7);
    expect(new Set(await store.ids()).size).toBe(7);
    expect((await store.all()).length).toBe(7);
  });

  it('serializer: its string is what the cache holds, and its parse (async too) reads it back', async () => {
    const serializer: Serializer = {
      stringify: (session) => Buffer.from(JSON.stringify(session)).toString('base64'),
      parse: async (text) => JSON.parse(Buffer.from(text, 'base64').toString()),
    };
    const store = new LixSessionStore({ cache, prefix: 'p4:', serializer });
    expect(store.serializer).toBe(serializer);
    await store.set('sid', { cookie: cookie(60), user: 'ann' } as never);
    const raw = await cache.get(`p4:${sha256('sid')}`);
    expect(typeof raw).toBe('string');
    expect(JSON.parse(Buffer.from(raw as string, 'base64').toString())).toMatchObject({ user: 'ann' });
    expect(await store.get('sid')).toMatchObject({ user: 'ann' });
    expect(await store.all()).toEqual([expect.objectContaining({ user: 'ann', id: `sha256:${sha256('sid')}` })]);

    // A session stored without this serializer (an object, not a string) is an error that says so.
    await cache.set(`p4:${sha256('plain')}`, { cookie: cookie(60) });
    await expect(store.get('plain')).rejects.toThrow(/was not stored by this serializer \(it is not a string\)/);
    const bad = new LixSessionStore({ cache, prefix: 'p4:', serializer: { parse: JSON.parse, stringify: () => 42 as never } });
    await expect(bad.set('sid', { cookie: cookie(60) })).rejects.toThrow(/serializer.stringify returned 42; it must return a string/);
  });

  it('ttl as a function decides every TTL (over the cookie\'s); 0 or less deletes; a non-number is an error', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p5:', ttl: (session: { plan?: string }) => (session.plan === 'pro' ? 600 : session.plan === 'gone' ? 0 : 30) });
    await store.set('pro', { cookie: cookie(5), plan: 'pro' } as never);
    await store.set('free', { ...noExpiry, plan: 'free' } as never);
    expect((await cache.getEntry(`p5:${sha256('pro')}`))!.ttl).toBeGreaterThan(590);
    expect((await cache.getEntry(`p5:${sha256('free')}`))!.ttl).toBeLessThanOrEqual(30);
    await store.touch('free', { ...noExpiry, plan: 'pro' } as never);
    expect((await cache.getEntry(`p5:${sha256('free')}`))!.ttl).toBeGreaterThan(590);
    await store.set('pro', { cookie: cookie(60), plan: 'gone' } as never);
    expect(await store.get('pro')).toBeNull();

    const bad = new LixSessionStore({ cache, prefix: 'p5:', ttl: () => 'soon' as never });
    await expect(bad.set('sid', noExpiry as never)).rejects.toThrow(/the "ttl" function returned "soon"; it must return a number of seconds/);
  });

  it('disableTTL: sessions are stored without a TTL and touch leaves them; an expired cookie still deletes', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p6:', disableTTL: true });
    expect(store.disableTTL).toBe(true);
    await store.set('sid', { cookie: cookie(60) });
    expect((await cache.getEntry(`p6:${sha256('sid')}`))!.ttl).toBeNull();
    await store.touch('sid', { cookie: cookie(60) });
    expect((await cache.getEntry(`p6:${sha256('sid')}`))!.ttl).toBeNull();
    await store.set('sid', { cookie: { expires: new Date(Date.now() - 1000).toISOString() } });
    expect(await store.get('sid')).toBeNull();
  });

  it('disableTouch: touch keeps the TTL', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p7:', disableTouch: true });
    await store.set('sid', { cookie: cookie(60) });
    await store.touch('sid', { cookie: cookie(6000) });
    expect((await cache.getEntry(`p7:${sha256('sid')}`))!.ttl).toBeLessThanOrEqual(60);
  });

  it('client: connect-redis\'s name for cache', async () => {
    const store = new LixSessionStore({ client: server.url, prefix: 'p8:' });
    expect(store.client).toBe(store.cache);
    await store.set('sid', { cookie: cookie(60) });
    expect(await cache.exists(`p8:${sha256('sid')}`)).toBe(true);
    await store.cache.close();
  });
});

describe('stored ids: ids() and all() give hashes, which never work as session ids', () => {
  it('get, set and touch refuse a stored id; destroy takes one (log a user out everywhere)', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p9:' });
    await store.set('sid-1', { cookie: cookie(60), user: 'ann' } as never);
    await store.set('sid-2', { cookie: cookie(60), user: 'ann' } as never);
    await store.set('sid-3', { cookie: cookie(60), user: 'bob' } as never);
    const sessions = (await store.all()) as { id: string; user: string }[];
    const ann = sessions.filter((session) => session.user === 'ann');
    expect(ann.map((session) => session.id).sort()).toEqual([`sha256:${sha256('sid-1')}`, `sha256:${sha256('sid-2')}`].sort());

    const storedId = ann[0]!.id;
    const refused = /is a stored id from ids\(\) or all\(\) \(a hash of a session id\), not a session id: a hash never loads, saves or extends a session/;
    await expect(store.get(storedId)).rejects.toThrow(refused);
    await expect(store.set(storedId, { cookie: cookie(60) })).rejects.toThrow(refused);
    await expect(store.touch(storedId, { cookie: cookie(60) })).rejects.toThrow(refused);
    let error: unknown;
    await store.get(storedId, (e) => void (error = e));
    expect(error).toBeInstanceOf(TypeError);
    // The bare hash is just another id: it finds nothing.
    expect(await store.get(storedId.slice('sha256:'.length))).toBeNull();

    for (const session of ann) await store.destroy(session.id);
    expect(await store.get('sid-1')).toBeNull();
    expect(await store.get('sid-2')).toBeNull();
    expect(await store.get('sid-3')).toMatchObject({ user: 'bob' });
    await expect(store.destroy('sha256:not-a-hash')).rejects.toThrow(/is not a stored id from ids\(\) or all\(\)/);
  });

  it('hashIds: false stores raw ids (connect-redis\'s layout), after one process warning', async () => {
    const warnings: (Error & { code?: string })[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const store = new LixSessionStore({ cache, prefix: 'p10:', hashIds: false });
    new LixSessionStore({ cache, prefix: 'p10:', hashIds: false });
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    const raw = warnings.filter((warning) => warning.code === 'LIX_SESSION_RAW_IDS');
    expect(raw).toHaveLength(1);
    expect(raw[0]!.message).toMatch(/stores session ids in the cache as they are/);

    expect(store.hashIds).toBe(false);
    await store.set('sid-raw', { cookie: cookie(60), n: 1 } as never);
    expect(await cache.get('p10:sid-raw')).toMatchObject({ n: 1 });
    expect(await store.ids()).toEqual(['sid-raw']);
    expect(await store.all()).toEqual([expect.objectContaining({ id: 'sid-raw', n: 1 })]);
    await store.destroy('sid-raw');
    expect(await store.length()).toBe(0);
    // Sessions stored hashed are not found raw, and the other way round.
    await store.set('sid-x', { cookie: cookie(60) });
    expect(await new LixSessionStore({ cache, prefix: 'p10:' }).get('sid-x')).toBeNull();
  });
});

describe('bad options and arguments: TypeErrors that name the option and the fix', () => {
  const cases: [string, unknown, RegExp][] = [
    ['options', 'sess:', /options must be an object such as \{ prefix: "sess:" \}; got "sess:"/],
    ['unknown', { disableTtl: true }, /unknown option "disableTtl". The options are cache, client, prefix, scanCount, serializer, ttl, disableTTL, disableTouch, hashIds/],
    ['prefix', { prefix: null }, /"prefix" must be a string such as "sess:" \("" for none\); got null/],
    ['scanCount 0', { scanCount: 0 }, /"scanCount" must be a whole number from 1 to 10000 \(keys per page\); got 0/],
    ['scanCount 1.5', { scanCount: 1.5 }, /"scanCount" must be a whole number from 1 to 10000/],
    ['scanCount "100"', { scanCount: '100' }, /"scanCount" must be a whole number from 1 to 10000 \(keys per page\); got "100"/],
    ['serializer', { serializer: { parse: JSON.parse } }, /"serializer" must be an object with parse\(text\) and stringify\(session\) functions, such as JSON/],
    ['ttl 0', { ttl: 0 }, /"ttl" must be a positive number of seconds or a function \(session\) => seconds; got 0. For sessions that never expire in the cache, use disableTTL: true/],
    ['ttl NaN', { ttl: Number.NaN }, /"ttl" must be a positive number of seconds/],
    ['ttl string', { ttl: '1d' }, /"ttl" must be a positive number of seconds or a function \(session\) => seconds; got "1d"/],
    ['disableTTL', { disableTTL: 'yes' }, /"disableTTL" must be true or false; got "yes"/],
    ['disableTouch', { disableTouch: 1 }, /"disableTouch" must be true or false; got 1/],
    ['hashIds', { hashIds: 'false' }, /"hashIds" must be true or false; got "false"/],
    ['cache', { cache: 1 }, /"cache" must be a LixCache client or a URL such as "redis:\/\/localhost:6379"/],
    ['a node-redis client', { client: { isOpen: true, get() {} } }, /"client" must be a LixCache client or a URL .*A node-redis or ioredis client cannot be used: pass the URL it connects to instead/],
    ['cache and client', { cache: 'memory://a', client: 'memory://b' }, /pass "cache" or "client" \(its connect-redis name\), not both/],
  ];
  it.each(cases)('%s', (_name, options, message) => {
    expect(() => new LixSessionStore(options as never)).toThrow(TypeError);
    expect(() => new LixSessionStore(options as never)).toThrow(message);
    expect(() => new LixSessionStore(options as never)).toThrow(/^LixSessionStore: /);
  });

  it('a session id that is not a non-empty string', async () => {
    const store = new LixSessionStore({ cache, prefix: 'p11:' });
    await expect(store.get('')).rejects.toThrow(/LixSessionStore.get: the session id must be a non-empty string; got ""/);
    await expect(store.set(42 as never, noExpiry as never)).rejects.toThrow(/LixSessionStore.set: the session id must be a non-empty string; got 42/);
  });
});
