import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../test/helpers/redis-process';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { LixCache, LixTypeError, LixValidationError, type Command } from '../src/index';

/**
 * One suite, run through every transport: http:// against the real server
 * process, memory:// in-process, and redis:// straight to a real redis-server.
 * Each test also writes what it observed into a transcript; the last test
 * checks every transport observed the same.
 */

const transcripts: Record<string, unknown[]> = {};

function described(error: unknown): string {
  return error instanceof Error ? `${error.name}:${(error as { code?: string }).code}` : String(error);
}

async function outcome<T>(promise: Promise<T>): Promise<T | string> {
  try {
    return await promise;
  } catch (error) {
    return described(error);
  }
}

describe.each(['http', 'memory', 'redis'])('LixCache over %s://', (transport) => {
  let server: ServerProcess | undefined;
  let redis: RedisProcess | undefined;
  let cache: LixCache;
  const seen: unknown[] = (transcripts[transport] = []);
  const record = <T>(value: T): T => {
    seen.push(value);
    return value;
  };

  beforeAll(async () => {
    if (transport === 'http') {
      server = await startServer();
      cache = new LixCache({ url: server.url });
    } else if (transport === 'redis') {
      redis = await startRedis();
      cache = new LixCache({ url: `${redis.url}?keyPrefix=sdk-suite:` });
    } else {
      cache = new LixCache({ url: 'memory://client-suite' });
    }
  });
  afterAll(async () => {
    await cache.close();
    if (server) expect(await server.stop()).toBe(0);
    await redis?.stop();
  });
  beforeEach(async () => {
    await cache.clear();
  });

  it('get resolves null for a missing key and never throws', async () => {
    expect(record(await cache.get('missing'))).toBeNull();
    expect(record(await cache.getEntry('missing'))).toBeNull();
  });

  it('round-trips every kind of JSON value', async () => {
    const values = [{ a: 1, nested: { list: [1, 'two', null, true] } }, [1, 2, 3], 'text', 42.5, -7, true, false, 'ünïcødé ✓'];
    await Promise.all(values.map((value, i) => cache.set(`v:${i}`, value)));
    const read = await Promise.all(values.map((_, i) => cache.get(`v:${i}`)));
    expect(record(read)).toEqual(values);
  });

  it('stores null as a value: get gives null, getEntry tells it apart from a missing key', async () => {
    await cache.set('null', null);
    expect(await cache.get('null')).toBeNull();
    expect(record(await cache.getEntry('null'))).toEqual({ value: null, ttl: null });
    expect(await cache.exists('null')).toBe(true);
  });

  it('getEntry with withTags reads the tags; bad withTags is refused', async () => {
    await cache.set('tagged', 1, { tags: ['b', 'a'] });
    await cache.set('plain', 2);
    const entry = await cache.getEntry('tagged', { withTags: true });
    expect(entry).toMatchObject({ value: 1, ttl: null });
    expect(record(entry!.tags!.sort())).toEqual(['a', 'b']);
    expect(record(await cache.getEntry('plain', { withTags: true }))).toEqual({ value: 2, ttl: null, tags: [] });
    expect(record(await cache.getEntry('tagged'))).toEqual({ value: 1, ttl: null });
    expect(await cache.getEntry('missing', { withTags: true })).toBeNull();
    await expect(cache.getEntry('tagged', { withTags: 'yes' as unknown as boolean })).rejects.toThrow(/"withTags" option of getEntry must be true or false/);
  });

  it('set with ttl expires the key and getEntry reports the remaining ttl', async () => {
    await cache.set('short', 'x', { ttl: 0.2 });
    await cache.set('long', 'y', { ttl: 100 });
    const entry = await cache.getEntry('long');
    expect(entry?.value).toBe('y');
    expect(entry!.ttl).toBeGreaterThan(90);
    expect(entry!.ttl).toBeLessThanOrEqual(100);
    await waitFor(async () => (await cache.get('short')) === null, { what: 'short key to expire' });
    record(await cache.get('long'));
  });

  it('nx writes only when absent, xx only when present', async () => {
    record([
      await cache.set('c', 1, { xx: true }),
      await cache.get('c'),
      await cache.set('c', 2, { nx: true }),
      await cache.set('c', 3, { nx: true }),
      await cache.get('c'),
      await cache.set('c', 4, { xx: true }),
      await cache.get('c'),
    ]);
    expect(seen.at(-1)).toEqual([false, null, true, false, 2, true, 4]);
  });

  it('merge changes only the given fields, never revives a missing key, refuses non-objects', async () => {
    expect(await cache.merge('user', { name: 'x' })).toBe(false);
    expect(await cache.exists('user')).toBe(false);
    await cache.set('user', { name: 'Alice', roles: ['user'] });
    const [a, b] = await Promise.all([cache.merge('user', { name: 'Alicia' }), cache.merge('user', { theme: 'dark' })]);
    expect([a, b]).toEqual([true, true]);
    expect(record(await cache.get('user'))).toEqual({ name: 'Alicia', roles: ['user'], theme: 'dark' });
    await cache.set('text', 'not an object');
    const error = await cache.merge('text', { a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixTypeError);
    expect((error as LixTypeError).code).toBe('not_object');
    record(described(error));
  });

  it('merge with ttl resets the ttl', async () => {
    await cache.set('m', { a: 1 });
    await cache.merge('m', { b: 2 }, { ttl: 50 });
    const entry = await cache.getEntry('m');
    expect(entry!.ttl).toBeGreaterThan(40);
  });

  it('delete and exists say whether the key was there', async () => {
    await cache.set('d', 1);
    record([await cache.exists('d'), await cache.delete('d'), await cache.delete('d'), await cache.exists('d')]);
    expect(seen.at(-1)).toEqual([true, true, false, false]);
  });

  it('incr/decr count from 0, take an amount, apply ttl on create, and throw LixTypeError on non-numbers', async () => {
    record([await cache.incr('n'), await cache.incr('n', 5), await cache.decr('n'), await cache.decr('n', 10), await cache.incr('n', 0.5)]);
    expect(seen.at(-1)).toEqual([1, 6, 5, -5, -4.5]);
    await cache.incr('hits', 1, { ttl: 100 });
    expect((await cache.getEntry('hits'))!.ttl).toBeGreaterThan(90);
    await cache.set('word', 'abc');
    const error = await cache.incr('word').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixTypeError);
    expect((error as LixTypeError).code).toBe('non_numeric');
    expect((error as Error).message).toContain('non_numeric');
    await expect(cache.decr('word')).rejects.toBeInstanceOf(LixTypeError);
    expect(await cache.get('word')).toBe('abc');
  });

  it('expire sets and removes ttls; get with touch slides the ttl', async () => {
    expect(await cache.expire('none', 10)).toBe(false);
    await cache.set('e', 1);
    expect(await cache.expire('e', 100)).toBe(true);
    expect((await cache.getEntry('e'))!.ttl).toBeGreaterThan(90);
    expect(await cache.expire('e', 0)).toBe(true);
    expect((await cache.getEntry('e'))!.ttl).toBeNull();
    await cache.set('s', 'v', { ttl: 5 });
    expect(await cache.get('s', { touch: 500 })).toBe('v');
    expect((await cache.getEntry('s'))!.ttl).toBeGreaterThan(400);
    const touched = await cache.getEntry('s', { touch: 1000 });
    expect(touched!.ttl).toBeGreaterThan(900);
    record(await cache.get('s'));
  });

  it('scan works in both forms, with keysOnly, tags, paging and the seed’s scan({ prefix })', async () => {
    await Promise.all([
      cache.set('session:a', { userId: 'u1' }, { tags: ['user:u1'] }),
      cache.set('session:b', { userId: 'u1' }, { tags: ['user:u1'] }),
      cache.set('session:c', { userId: 'u2' }, { tags: ['user:u2'] }),
      cache.set('other', 1),
    ]);
    const result = await cache.scan({ prefix: 'session:' });
    const users = result.items.map((item) => (item.value as { userId: string }).userId);
    expect(users.sort()).toEqual(['u1', 'u1', 'u2']);
    expect(result.count).toBe(3);
    expect(result.cursor).toBeNull();
    record(result.items.map((item) => item.key).sort());

    const keys = await cache.scan('session:', { keysOnly: true });
    expect(keys.keys.sort()).toEqual(['session:a', 'session:b', 'session:c']);
    const byTag = await cache.scan({ tag: 'user:u1' });
    expect(record(byTag.items.map((item) => item.key).sort())).toEqual(['session:a', 'session:b']);
    const tagAndPrefix = await cache.scan('session:', { tag: 'user:u2', keysOnly: true });
    expect(tagAndPrefix.keys).toEqual(['session:c']);

    const first = await cache.scan('session:', { limit: 2 });
    expect(first.count).toBe(2);
    expect(first.cursor).not.toBeNull();
    const second = await cache.scan('session:', { limit: 2, cursor: first.cursor });
    expect(second.count).toBe(1);
    expect(second.cursor).toBeNull();
    expect([...first.items, ...second.items].map((item) => item.key).sort()).toEqual(['session:a', 'session:b', 'session:c']);
    expect(first.items[0]).toHaveProperty('ttl');
  });

  it('scan without a limit returns every match, across many pages', async () => {
    const commands: Command[] = Array.from({ length: 2500 }, (_, i) => ({ op: 'set', key: `many:${String(i).padStart(4, '0')}`, value: i }));
    await cache.batch(commands);
    const all = await cache.scan('many:');
    expect(all.count).toBe(2500);
    expect(new Set(all.items.map((item) => item.key)).size).toBe(2500);
    let seenKeys = 0;
    for await (const key of cache.scanAll({ prefix: 'many:', keysOnly: true, limit: 300 })) {
      expect(key.startsWith('many:')).toBe(true);
      seenKeys++;
    }
    expect(seenKeys).toBe(2500);
    let sum = 0;
    for await (const item of cache.scanAll<number>('many:')) sum += item.value;
    expect(record(sum)).toBe((2499 * 2500) / 2);
  });

  it('invalidate deletes every key with the tag; clear deletes everything', async () => {
    await cache.set('p:1', 1, { tags: ['t', 'u'] });
    await cache.set('p:2', 2, { tags: ['t'] });
    await cache.set('p:3', 3, { tags: ['u'] });
    expect(record(await cache.invalidate('t'))).toBe(2);
    expect(await cache.exists('p:1')).toBe(false);
    expect(await cache.exists('p:3')).toBe(true);
    expect(await cache.invalidate('nothing')).toBe(0);
    expect(record(await cache.clear())).toEqual({ success: true, cleared: 1 });
    expect((await cache.stats()).size).toBe(0);
  });

  it('batch runs raw commands in order; a bad command gets its own error result and the rest still run', async () => {
    const results = await cache.batch([
      { op: 'set', key: 'b:1', value: { a: 1 } },
      { op: 'get', key: 'b:1' },
      { op: 'incr', key: 'b:n', amount: 2 },
      { op: 'nope', key: 'x' } as unknown as Command,
      { op: 'set', key: '', value: 1 },
      { op: 'incr', key: 'b:1' },
      { op: 'exists', key: 'b:1' },
      { op: 'delete', key: 'b:1' },
      { op: 'get', key: 'b:1' },
    ]);
    const shape = results.map((result) =>
      'error' in result ? { op: result.op, code: result.error.code } : { ...result, ttl: undefined },
    );
    record(shape);
    expect(shape[0]).toMatchObject({ op: 'set', key: 'b:1', success: true });
    expect(shape[1]).toMatchObject({ op: 'get', key: 'b:1', value: { a: 1 } });
    expect(shape[2]).toMatchObject({ op: 'incr', value: 2 });
    expect(shape[3]).toEqual({ op: 'nope', code: 'unknown_op' });
    expect(shape[4]).toEqual({ op: 'set', code: 'invalid_key' });
    expect(shape[5]).toEqual({ op: 'incr', code: 'non_numeric' });
    expect(shape[6]).toMatchObject({ exists: true });
    expect(shape[7]).toMatchObject({ op: 'delete', deleted: true });
    expect(shape[8]).toMatchObject({ op: 'get', value: null });
  });

  it('rejects bad input with a LixValidationError that says what to fix', async () => {
    const errors = await Promise.all([
      outcome(cache.get('')),
      outcome(cache.set('k', 1, { ttl: -1 })),
      outcome(cache.set('k', undefined)),
      outcome(cache.set('k', 1, { nx: true, xx: true })),
      outcome(cache.set('k', 1, { tags: [''] })),
      outcome(cache.incr('k', Number.NaN)),
      outcome(cache.merge('k', [1, 2] as unknown as object)),
      outcome(cache.set('__proto__', 1)),
      outcome(cache.set('k', { n: BigInt(1) })),
    ]);
    record(errors);
    for (const error of errors) expect(error).toMatch(/^LixValidationError:/);
    await expect(cache.get('')).rejects.toThrow(/key/);
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toThrow(/ttl/);
    expect(await cache.exists('k')).toBe(false);
  });

  it('stats counts hits, misses and size; health is ok', async () => {
    const before = await cache.stats();
    await cache.set('s1', 1);
    await cache.get('s1');
    await cache.get('s2');
    const after = await cache.stats();
    expect(after.size).toBe(1);
    expect(after.hits - before.hits).toBe(1);
    expect(after.misses - before.misses).toBe(1);
    // The original SDK's nested shape carries the same counters.
    const { hits, misses, evictions, expirations, operations } = after;
    expect(after.stats).toEqual({ hits, misses, evictions, expirations, operations });
    // Redis bounds memory, not a key count: its engine reports no item limit.
    if (transport === 'redis') expect(after.limit).toBe(0);
    else expect(after.limit).toBeGreaterThan(0);
    expect(await cache.health()).toEqual({ ok: true, status: 'healthy' });
  });

  it('remember computes once for concurrent callers, then serves the cached value', async () => {
    let runs = 0;
    const compute = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { id: 7, runs };
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.remember('r:7', compute, { ttl: 60 })));
    expect(runs).toBe(1);
    for (const result of results) expect(result).toEqual({ id: 7, runs: 1 });
    expect(await cache.remember('r:7', compute)).toEqual({ id: 7, runs: 1 });
    expect(runs).toBe(1);
    expect((await cache.getEntry('r:7'))!.ttl).toBeGreaterThan(50);
    await cache.delete('r:7');
    expect(record(await cache.remember('r:7', compute))).toEqual({ id: 7, runs: 2 });
    await expect(cache.remember('r:err', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.exists('r:err')).toBe(false);
  });

  it('rememberAll caches a list item by item and, with listTTL, calls fn again only when needed', async () => {
    let calls = 0;
    const fetchUsers = async () => {
      calls++;
      return [
        { id: 'a', name: 'Ann' },
        { id: 'b', name: 'Bob' },
      ];
    };
    const first = await cache.rememberAll('ru:', fetchUsers, { getKey: (user) => user.id, ttl: 60, listTTL: 60 });
    expect(first.items).toHaveLength(2);
    expect(first.getBy('b')).toEqual({ id: 'b', name: 'Bob' });
    expect(await cache.get('ru:a')).toEqual({ id: 'a', name: 'Ann' });
    const second = await cache.rememberAll('ru:', fetchUsers, { getKey: (user) => user.id, ttl: 60, listTTL: 60 });
    expect(second.items).toEqual(first.items);
    expect(calls).toBe(1);
    await cache.delete('ru:a');
    await cache.rememberAll('ru:', fetchUsers, { getKey: (user) => user.id, ttl: 60, listTTL: 60 });
    expect(calls).toBe(2);
    await cache.rememberAll('ru:', fetchUsers, { getKey: (user) => user.id });
    expect(record(calls)).toBe(3);
    const scanned = await cache.collection('ru:').scan({ keysOnly: true });
    expect(scanned.keys.sort()).toEqual(['a', 'b']);
  });

  it('collection: prefixed, typed access with batch helpers', async () => {
    interface User {
      name: string;
      age: number;
    }
    const users = cache.collection<User>('user:');
    expect(await users.set('1', { name: 'Ann', age: 30 })).toBe(true);
    await users.batchSet([
      { id: '2', value: { name: 'Bob', age: 40 } },
      { id: '3', value: { name: 'Cy', age: 50 }, ttl: 60 },
    ]);
    expect(await cache.get('user:2')).toEqual({ name: 'Bob', age: 40 });
    expect(await users.get('1')).toEqual({ name: 'Ann', age: 30 });
    expect(await users.exists('3')).toBe(true);
    expect(await users.batchGet(['1', 'nope', '3'])).toEqual([{ name: 'Ann', age: 30 }, null, { name: 'Cy', age: 50 }]);
    const page = await users.scan();
    expect(record(page.items.map((item) => item.key).sort())).toEqual(['1', '2', '3']);
    expect(await users.merge('1', { age: 31 })).toBe(true);
    expect((await users.getEntry('1'))!.value.age).toBe(31);
    expect(await users.batchDelete(['2', 'nope'])).toBe(1);
    expect(await users.delete('3')).toBe(true);
    expect(await users.remember('9', () => ({ name: 'Nine', age: 9 }))).toEqual({ name: 'Nine', age: 9 });
    await cache.set('unrelated', 1);
    expect(await users.clear()).toBe(2);
    expect(await cache.exists('unrelated')).toBe(true);
  });

  it('value: one typed key with incr/decr', async () => {
    const views = cache.value<number>('page:views');
    expect(await views.incr()).toBe(1);
    expect(await views.incr(10)).toBe(11);
    expect(await views.decr(2)).toBe(9);
    expect(await views.get()).toBe(9);
    const config = cache.value<{ theme: string }>('config');
    expect(await config.get()).toBeNull();
    expect(await config.remember(() => ({ theme: 'dark' }), { ttl: 60 })).toEqual({ theme: 'dark' });
    expect(await config.set({ theme: 'light' })).toBe(true);
    expect(record(await config.get())).toEqual({ theme: 'light' });
    expect(await config.exists()).toBe(true);
    expect(await config.expire(30)).toBe(true);
    expect(await config.delete()).toBe(true);
  });

  it('deduplicated gets each get their own copy', async () => {
    await cache.set('shared', { n: 1 });
    const [a, b] = await Promise.all([cache.get<{ n: number }>('shared'), cache.get<{ n: number }>('shared')]);
    a!.n = 99;
    expect(b).toEqual({ n: 1 });
    expect(await cache.get('shared')).toEqual({ n: 1 });
  });

  it('a value changed after set() was called is stored as it was at the call', async () => {
    const session = { lastAccess: 1 };
    const write = cache.set('snap', session);
    session.lastAccess = 2;
    await write;
    expect(record(await cache.get('snap'))).toEqual({ lastAccess: 1 });
  });

  it('a get after a write of the same key in one tick sees the write (no stale dedupe)', async () => {
    await cache.set('order', 'old');
    const [before, , after, , afterDelete] = await Promise.all([
      cache.get('order'),
      cache.set('order', 'new'),
      cache.get('order'),
      cache.delete('order'),
      cache.get('order'),
    ]);
    expect(record([before, after, afterDelete])).toEqual(['old', 'new', null]);
  });
});

describe('transports', () => {
  it('http://, memory:// and redis:// observed the same results', () => {
    expect(transcripts.http!.length).toBeGreaterThan(20);
    expect(transcripts.memory).toEqual(transcripts.http);
    expect(transcripts.redis).toEqual(transcripts.http);
  });
});
