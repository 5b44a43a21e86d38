import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../../../../test/helpers/redis-process';
import { waitFor } from '../../../../test/helpers/wait-for';
import type { Command, GetResult, Json, JsonObject, Result, ScanResult } from '../../src/commands/commands';
import { LixError } from '../../src/commands/errors';
import { RedisEngine } from '../../src/redis/redis-engine';
import { describeEngineConformance } from '../engine-conformance';

let standalone: RedisProcess;
let cluster: RedisCluster;

beforeAll(async () => {
  [standalone, cluster] = await Promise.all([startRedis(), startRedisCluster({ masters: 3 })]);
});
afterAll(async () => {
  await Promise.all([standalone?.stop(), cluster?.stop()]);
});

describeEngineConformance('RedisEngine on a standalone redis-server', async (options) => new RedisEngine({ url: standalone.url, ...options }));
describeEngineConformance('RedisEngine on a 3-master Redis Cluster', async (options) => new RedisEngine({ url: cluster.url, ...options }));

const open: RedisEngine[] = [];
function engineOn(url: string, options: Partial<ConstructorParameters<typeof RedisEngine>[0]> = {}): RedisEngine {
  const engine = new RedisEngine({ url, ...options });
  open.push(engine);
  return engine;
}
const raws: Redis[] = [];
function rawClient(url: string): Redis {
  const client = new Redis(url, { lazyConnect: false });
  client.on('error', () => undefined); // tests stop servers under it
  raws.push(client);
  return client;
}
afterAll(async () => {
  await Promise.all(open.map((engine) => engine.close()));
  raws.forEach((client) => client.disconnect());
});

async function one(engine: RedisEngine, command: Command): Promise<Result> {
  return (await engine.execute([command]))[0]!;
}
async function valueOf(engine: RedisEngine, key: string): Promise<Json> {
  return ((await one(engine, { op: 'get', key })) as GetResult).value;
}
async function tagKeys(engine: RedisEngine, tag: string): Promise<string[]> {
  return ((await one(engine, { op: 'scan', tag, keysOnly: true })) as ScanResult).keys!.sort();
}

describe('RedisEngine on Redis', () => {
  let url: string;
  let engine: RedisEngine;
  let redis: Redis;
  beforeAll(() => {
    url = `${standalone.url}/1`; // db 0 belongs to the conformance suite, which expects to see only its own keys
    engine = engineOn(url, { keyPrefix: 'own:' });
    redis = rawClient(url);
  });

  it('stores each value as JSON text in one hash per key, tags beside it', async () => {
    await engine.execute([{ op: 'set', key: 'layout', value: { a: [1, 'x'] }, tags: ['t1'] }]);
    expect(await redis.hgetall('own:k:layout')).toStrictEqual({ v: '{"a":[1,"x"]}', 't:t1': '1' });
    expect(await redis.smembers('own:t:t1')).toStrictEqual(['layout']);
  });

  it('merge keeps nested values byte for byte, field order, and odd field names', async () => {
    const value = { big: 9007199254740993n.toString(), f: 0.30000000000000004, empty: [], obj: {}, 'q"u\\o': 'é🎉', n: -1e-7 };
    await one(engine, { op: 'set', key: 'exact', value });
    await one(engine, { op: 'merge', key: 'exact', value: { 'q"u\\o': ['x'], added: { deep: [[]] } } });
    const merged = { ...value, 'q"u\\o': ['x'], added: { deep: [[]] } };
    expect(await redis.hget('own:k:exact', 'v')).toBe(JSON.stringify(merged));
    expect(await valueOf(engine, 'exact')).toStrictEqual(merged);
    await one(engine, { op: 'set', key: 'empty', value: {} });
    await one(engine, { op: 'merge', key: 'empty', value: { a: 1 } });
    expect(await valueOf(engine, 'empty')).toStrictEqual({ a: 1 });
  });

  it('merge drops fields whose value JSON leaves out, as an object spread then JSON.stringify would', async () => {
    await one(engine, { op: 'set', key: 'drop', value: { keep: 1, gone: 2 } });
    await one(engine, { op: 'merge', key: 'drop', value: { gone: undefined } as unknown as JsonObject });
    expect(await valueOf(engine, 'drop')).toStrictEqual({ keep: 1 });
  });

  it('a merge past the value size limit is refused and the value stays', async () => {
    const small = engineOn(url, { keyPrefix: 'small:', limits: { maxValueBytes: 40 } });
    await one(small, { op: 'set', key: 'm', value: { a: 'x'.repeat(20) } });
    const result = await one(small, { op: 'merge', key: 'm', value: { b: 'y'.repeat(20) } });
    expect(result).toMatchObject({ op: 'merge', key: 'm', error: { code: 'value_too_large' } });
    expect(await valueOf(small, 'm')).toStrictEqual({ a: 'x'.repeat(20) });
  });

  it('incr does IEEE double arithmetic, as JavaScript does, and refuses to leave the finite numbers', async () => {
    await one(engine, { op: 'set', key: 'f', value: 0.1 });
    expect(await one(engine, { op: 'incr', key: 'f', amount: 0.2 })).toMatchObject({ value: 0.1 + 0.2 });
    await one(engine, { op: 'set', key: 'big', value: 2 ** 53 });
    expect(await one(engine, { op: 'decr', key: 'big', amount: 1 })).toMatchObject({ value: 2 ** 53 - 1 });
    await one(engine, { op: 'set', key: 'max', value: Number.MAX_VALUE });
    expect(await one(engine, { op: 'incr', key: 'max', amount: Number.MAX_VALUE })).toMatchObject({ error: { code: 'invalid_amount' } });
    expect(await valueOf(engine, 'max')).toBe(Number.MAX_VALUE);
  });

  it('a tag set lives at least as long as its members, and sliding a member slides it', async () => {
    await one(engine, { op: 'set', key: 'sess', value: 1, ttl: 2, tags: ['slide'] });
    expect(await redis.pttl('own:t:slide')).toBeGreaterThanOrEqual((await redis.pttl('own:k:sess')) - 5);
    await one(engine, { op: 'get', key: 'sess', touch: 100 });
    expect(await redis.pttl('own:t:slide')).toBeGreaterThan(99_000);
    await one(engine, { op: 'expire', key: 'sess', ttl: 200 });
    expect(await redis.pttl('own:t:slide')).toBeGreaterThan(199_000);
    await one(engine, { op: 'expire', key: 'sess', ttl: 0 });
    expect(await redis.pttl('own:t:slide')).toBe(-1);
  });

  it('an abandoned tag disappears once its members have expired', async () => {
    await engine.execute([
      { op: 'set', key: 'a1', value: 1, ttl: 0.2, tags: ['abandoned'] },
      { op: 'set', key: 'a2', value: 2, ttl: 0.3, tags: ['abandoned'] },
    ]);
    expect(await redis.exists('own:t:abandoned')).toBe(1);
    await waitFor(async () => (await redis.exists('own:t:abandoned')) === 0, { what: 'the tag set to expire' });
  });

  it('delete and retagging take a key out of its tag sets; an emptied set is gone', async () => {
    await one(engine, { op: 'set', key: 'd', value: 1, tags: ['del1', 'del2'] });
    await one(engine, { op: 'delete', key: 'd' });
    await waitFor(async () => (await redis.exists('own:t:del1', 'own:t:del2')) === 0, { what: 'delete to empty the tag sets' });
    await one(engine, { op: 'set', key: 'r', value: 1, tags: ['old'] });
    await one(engine, { op: 'set', key: 'r', value: 2, tags: ['new'] });
    await waitFor(async () => (await redis.exists('own:t:old')) === 0, { what: 'the retagged key to leave its old tag' });
    expect(await redis.smembers('own:t:new')).toStrictEqual(['r']);
  });

  it('scan and invalidate prune expired members, so a tag set holds only live keys', async () => {
    await engine.execute([
      ...Array.from({ length: 30 }, (_, i): Command => ({ op: 'set', key: `p:dead${i}`, value: i, ttl: 0.2, tags: ['prune'] })),
      { op: 'set', key: 'p:live1', value: 1, tags: ['prune'] },
      { op: 'set', key: 'p:live2', value: 2, ttl: 100, tags: ['prune'] },
    ]);
    expect(await redis.scard('own:t:prune')).toBe(32);
    await waitFor(async () => (await redis.exists('own:k:p:dead0', 'own:k:p:dead29')) === 0, { what: 'the members to expire' });
    await waitFor(async () => (await tagKeys(engine, 'prune')).length === 2, { what: 'expired members to leave the scan' });
    expect(await redis.smembers('own:t:prune').then((members) => members.sort())).toStrictEqual(['p:live1', 'p:live2']);
    expect(await one(engine, { op: 'invalidate', tag: 'prune' })).toMatchObject({ deleted: 2 });
    expect(await redis.exists('own:t:prune')).toBe(0);
  });

  it('a busy tag that is never scanned stays near its live size: each add prunes sampled dead members', async () => {
    await engine.execute(Array.from({ length: 50 }, (_, i): Command => ({ op: 'set', key: `b:dead${i}`, value: i, ttl: 0.1, tags: ['busy'] })));
    await waitFor(async () => (await redis.exists(...Array.from({ length: 50 }, (_, i) => `own:k:b:dead${i}`))) === 0, { what: 'the members to expire' });
    for (let i = 0; i < 100; i++) await one(engine, { op: 'set', key: `b:live${i}`, value: i, ttl: 100, tags: ['busy'] });
    // Without pruning the set would hold 150; sampling leaves ~5 of the 50 dead ones in expectation.
    await waitFor(async () => (await redis.scard('own:t:busy')) < 125, { what: 'dead members to be pruned' });
    expect(await tagKeys(engine, 'busy')).toHaveLength(100);
  });

  it('keyPrefix isolates engines on one Redis, and clear deletes only its own keys', async () => {
    const a = engineOn(url, { keyPrefix: 'appA:' });
    const b = engineOn(url, { keyPrefix: 'appB:' });
    await redis.set('foreign', 'keep me');
    await a.execute([{ op: 'set', key: 'same', value: 'A', tags: ['t'] }, { op: 'set', key: 'onlyA', value: 1 }]);
    await b.execute([{ op: 'set', key: 'same', value: 'B', tags: ['t'] }]);
    expect(await valueOf(a, 'same')).toBe('A');
    expect(await valueOf(b, 'same')).toBe('B');
    expect(((await one(b, { op: 'scan', keysOnly: true })) as ScanResult).keys).toStrictEqual(['same']);
    expect(await one(a, { op: 'clear' })).toMatchObject({ cleared: 2 });
    expect(await valueOf(b, 'same')).toBe('B');
    expect(await tagKeys(b, 't')).toStrictEqual(['same']);
    expect(await redis.get('foreign')).toBe('keep me');
    expect(await redis.exists('appA:t:t')).toBe(0);
  });

  it('reports stats from Redis INFO', async () => {
    const stats = await engine.stats();
    expect(stats.engine).toBe('redis');
    expect(stats.memory).toBeGreaterThan(0);
    expect(stats.size).toBe(await redis.dbsize());
  });
});

/** Script calls (EVALSHA, or EVAL the first time on a connection) these servers have run so far. */
async function scriptCalls(clients: readonly Redis[]): Promise<number> {
  const infos = await Promise.all(clients.map((client) => client.info('commandstats')));
  let calls = 0;
  for (const info of infos) for (const match of info.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

describe('RedisEngine round trips', () => {
  it('a batch goes out as one script call per 1000 commands, and concurrent calls of one turn share a script call', async () => {
    const url = `${standalone.url}/3`;
    const engine = engineOn(url);
    const redis = rawClient(url);
    await engine.execute(Array.from({ length: 2500 }, (_, i): Command => ({ op: 'set', key: `k${i}`, value: i })));
    let before = await scriptCalls([redis]);
    const values = await engine.execute(Array.from({ length: 2500 }, (_, i): Command => ({ op: 'get', key: `k${i}` })));
    expect(await scriptCalls([redis])).toBe(before + 3);
    expect(values.map((result) => (result as GetResult).value)).toStrictEqual(Array.from({ length: 2500 }, (_, i) => i));
    before = await scriptCalls([redis]);
    const singles = await Promise.all(Array.from({ length: 100 }, (_, i) => one(engine, { op: 'incr', key: `k${i}` })));
    expect(await scriptCalls([redis])).toBe(before + 1);
    expect(singles.map((result) => (result as { value: number }).value)).toStrictEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('large values split a batch into script calls of about 1 MiB of arguments', async () => {
    const url = `${standalone.url}/3`;
    const engine = engineOn(url, { keyPrefix: 'large:' });
    const redis = rawClient(url);
    const value = 'x'.repeat(400_000);
    const before = await scriptCalls([redis]);
    const results = await engine.execute(Array.from({ length: 5 }, (_, i): Command => ({ op: 'set', key: `big${i}`, value })));
    expect(results).toMatchObject(Array.from({ length: 5 }, () => ({ written: true })));
    expect(await scriptCalls([redis])).toBe(before + 2);
    expect(await valueOf(engine, 'big4')).toBe(value);
  });

  it('a scan in a batch sees the writes before it, and the writes after it run after it', async () => {
    const engine = engineOn(`${standalone.url}/3`, { keyPrefix: 'order:' });
    const results = await engine.execute([
      { op: 'set', key: 'a', value: 1, tags: ['t'] },
      { op: 'scan', tag: 't', keysOnly: true },
      { op: 'set', key: 'b', value: 2, tags: ['t'] },
      { op: 'invalidate', tag: 't' },
      { op: 'get', key: 'a' },
    ]);
    expect(results.slice(1)).toMatchObject([{ keys: ['a'] }, { written: true }, { deleted: 2 }, { found: false }]);
  });

  it('on standalone Redis, get with touch on a tagged key is one script call that stretches the tag set too', async () => {
    const url = `${standalone.url}/3`;
    const engine = engineOn(url, { keyPrefix: 'touch:' });
    const redis = rawClient(url);
    await one(engine, { op: 'set', key: 'sess', value: { userId: 1 }, ttl: 60, tags: ['user:1', 'all'] });
    const before = await scriptCalls([redis]);
    expect(await one(engine, { op: 'get', key: 'sess', touch: 3600 })).toMatchObject({ found: true, value: { userId: 1 } });
    expect(await scriptCalls([redis])).toBe(before + 1);
    expect(await redis.pttl('touch:t:user:1')).toBeGreaterThan(3_599_000);
    expect(await redis.pttl('touch:t:all')).toBeGreaterThan(3_599_000);
  });

  it('in a Cluster with a {hash tag} keyPrefix, tag sets are kept in the same script call too', async () => {
    const engine = engineOn(cluster.url, { keyPrefix: '{touch}:' });
    const nodes = cluster.nodes.map((node) => rawClient(node.url));
    let before = await scriptCalls(nodes);
    await one(engine, { op: 'set', key: 'sess', value: 1, ttl: 60, tags: ['user:1'] });
    await one(engine, { op: 'get', key: 'sess', touch: 3600 });
    expect(await scriptCalls(nodes)).toBe(before + 2);
    const redis = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
    try {
      expect(await redis.smembers('{touch}:t:user:1')).toStrictEqual(['sess']);
      expect(await redis.pttl('{touch}:t:user:1')).toBeGreaterThan(3_599_000);
    } finally {
      redis.disconnect();
    }
    before = await scriptCalls(nodes);
    expect(await one(engine, { op: 'invalidate', tag: 'user:1' })).toMatchObject({ deleted: 1 });
    expect(await scriptCalls(nodes)).toBe(before + 1);
  });

  it('in a Cluster, a batch runs as one script call per master, and a key moved to another master meanwhile still answers', async () => {
    const engine = engineOn(cluster.url, { keyPrefix: 'moved:' });
    const raw = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
      await engine.execute(keys.map((key, i): Command => ({ op: 'set', key, value: i })));
      const nodes = cluster.nodes.map((node) => rawClient(node.url));
      await waitFor(async () => {
        const before = await scriptCalls(nodes);
        await engine.execute(keys.map((key): Command => ({ op: 'exists', key })));
        return (await scriptCalls(nodes)) - before === 3;
      }, { what: 'one script call per master' });

      // Move the slot of one key to another master behind the engine's back, as resharding does.
      const [moved, ...rest] = keys;
      const slot = calculateSlot(`moved:k:${moved}`);
      const owner = raw.slots[slot]![0]!;
      const source = nodes[cluster.nodes.findIndex((node) => `${node.host}:${node.port}` === owner)]!;
      const target = nodes.find((node) => node !== source)!;
      const [sourceId, targetId] = (await Promise.all([source.cluster('MYID'), target.cluster('MYID')])) as string[];
      await target.cluster('SETSLOT', slot, 'IMPORTING', sourceId!);
      await source.cluster('SETSLOT', slot, 'MIGRATING', targetId!);
      const inSlot = (await source.cluster('GETKEYSINSLOT', slot, 100)) as string[];
      await source.migrate(target.options.host!, target.options.port!, '', 0, 5000, 'KEYS', ...inSlot);
      await Promise.all(nodes.map((node) => node.cluster('SETSLOT', slot, 'NODE', targetId!)));

      const values = await engine.execute([moved!, ...rest].map((key): Command => ({ op: 'get', key })));
      expect(values.map((result) => (result as GetResult).value)).toStrictEqual(keys.map((_, i) => i));
    } finally {
      raw.disconnect();
    }
  });

  for (const where of ['standalone', 'Cluster'] as const) {
    it(`on ${where} Redis, touching a key puts it back into a tag set that was lost, so invalidate still finds it`, async () => {
      const url = where === 'standalone' ? `${standalone.url}/3` : cluster.url;
      const engine = engineOn(url, { keyPrefix: 'repair:' });
      const redis = where === 'standalone' ? rawClient(url) : new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
      try {
        await one(engine, { op: 'set', key: 'sess', value: 1, ttl: 60, tags: ['user:9'] });
        await redis.del('repair:t:user:9'); // as maxmemory eviction or a lost node might
        await one(engine, { op: 'get', key: 'sess', touch: 120 });
        await waitFor(async () => (await redis.smembers('repair:t:user:9')).includes('sess'), { what: 'the touch to re-add the key' });
        expect(await redis.pttl('repair:t:user:9')).toBeGreaterThan(119_000);
        expect(await one(engine, { op: 'invalidate', tag: 'user:9' })).toMatchObject({ deleted: 1 });
      } finally {
        if (redis instanceof Cluster) redis.disconnect();
      }
    });
  }
});

describe('RedisEngine when Redis goes away', () => {
  it('fails fast with unavailable while Redis is down, then recovers on the same engine with the data Redis kept', async () => {
    const redis = await startRedis({ persistence: true });
    try {
      const engine = engineOn(redis.url, { connectTimeoutMs: 500 });
      await engine.execute([
        { op: 'set', key: 'kept', value: { a: 1 }, tags: ['user:1'] },
        { op: 'incr', key: 'counter', amount: 41 },
      ]);
      await redis.stop();
      await expect(engine.execute([{ op: 'get', key: 'kept' }])).rejects.toMatchObject({ name: 'LixError', code: 'unavailable', status: 503 });
      const error = await engine.execute([{ op: 'set', key: 'x', value: 1 }]).catch((e: unknown) => e as LixError);
      expect(error).toBeInstanceOf(LixError);
      expect((error as LixError).message).toMatch(/unavailable: Redis at 127\.0\.0\.1:\d+ is unreachable/);
      const health = await engine.health();
      expect(health.ok).toBe(false);
      expect(health.message).toMatch(/unreachable/);
      await expect(engine.stats()).rejects.toMatchObject({ code: 'unavailable' });

      await redis.restart();
      await waitFor(async () => (await engine.health()).ok, { what: 'the engine to reconnect', timeoutMs: 10_000 });
      expect(await valueOf(engine, 'kept')).toStrictEqual({ a: 1 });
      expect(await one(engine, { op: 'incr', key: 'counter' })).toMatchObject({ value: 42 });
      expect(await tagKeys(engine, 'user:1')).toStrictEqual(['kept']);
      expect(await one(engine, { op: 'merge', key: 'kept', value: { b: 2 } })).toMatchObject({ success: true });
    } finally {
      await redis.stop();
    }
  });

  it('keeps answering under traffic: each request succeeds or fails with unavailable, and none is lost after recovery', async () => {
    const redis = await startRedis({ persistence: true });
    try {
      const engine = engineOn(redis.url);
      let running = true;
      const outcomes = { ok: 0, unavailable: 0, other: [] as unknown[] };
      const written: number[] = [];
      const traffic = (async () => {
        for (let i = 0; running; i++) {
          try {
            await engine.execute([{ op: 'set', key: `n${i}`, value: i }]);
            written.push(i);
            outcomes.ok++;
          } catch (error) {
            if (error instanceof LixError && error.code === 'unavailable') outcomes.unavailable++;
            else outcomes.other.push(error);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
      })();
      await waitFor(() => outcomes.ok > 20, { what: 'traffic before the stop' });
      await redis.stop();
      await waitFor(() => outcomes.unavailable > 5, { what: 'requests to fail while Redis is down' });
      await redis.restart();
      const okBefore = outcomes.ok;
      await waitFor(() => outcomes.ok > okBefore + 20, { what: 'requests to succeed again', timeoutMs: 10_000 });
      running = false;
      await traffic;
      expect(outcomes.other).toStrictEqual([]);
      const values = await engine.execute(written.map((i): Command => ({ op: 'get', key: `n${i}` })));
      expect(values.map((result) => (result as GetResult).value)).toStrictEqual(written);
    } finally {
      await redis.stop();
    }
  });

  it('in a Cluster, a master stopped and restarted: its keys answer unavailable and health says so, then all is back', async () => {
    const redis = await startRedisCluster({ masters: 3, persistence: true });
    try {
      const engine = engineOn(redis.url);
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      await engine.execute(keys.map((key, i): Command => ({ op: 'set', key, value: i, tags: ['all'] })));
      const victim = redis.processes[1]!;
      const probe = rawClient(victim.url);
      const onVictim = (await probe.keys('lix:k:*')).map((key) => key.slice('lix:k:'.length));
      probe.disconnect();
      expect(onVictim.length).toBeGreaterThan(0);
      await victim.stop();
      await expect(engine.execute([{ op: 'get', key: onVictim[0]! }])).rejects.toMatchObject({ code: 'unavailable' });
      await waitFor(async () => (await engine.health()).ok === false, { what: 'health to report the lost master' });
      expect((await engine.health()).message).toMatch(/Redis Cluster/);
      await victim.restart();
      await waitFor(async () => (await engine.health()).ok, { what: 'health to recover', timeoutMs: 15_000 });
      const values = await engine.execute(keys.map((key): Command => ({ op: 'get', key })));
      expect(values.map((result) => (result as GetResult).value)).toStrictEqual(keys.map((_, i) => i));
      expect(await tagKeys(engine, 'all')).toHaveLength(30);
    } finally {
      await redis.stop();
    }
  });

  it('an engine created before Redis is up answers unavailable, then works once Redis starts', async () => {
    const redis = await startRedis();
    await redis.stop();
    const engine = engineOn(redis.url, { connectTimeoutMs: 200 });
    await expect(engine.execute([{ op: 'get', key: 'k' }])).rejects.toMatchObject({ code: 'unavailable' });
    await redis.restart();
    try {
      await waitFor(async () => (await engine.health()).ok, { what: 'the first connection', timeoutMs: 10_000 });
      expect(await one(engine, { op: 'set', key: 'k', value: 1 })).toMatchObject({ written: true });
    } finally {
      await redis.stop();
    }
  });
});

describe('RedisEngine options', () => {
  it('rejects URLs it cannot use, saying what it takes', () => {
    for (const url of ['http://localhost:6379', 'localhost:6379', 'redis://', 'redis://host:99999', 'redis://host:6379/x', 'redis-cluster://']) {
      expect(() => new RedisEngine({ url })).toThrow(/Invalid Redis URL .*redis:\/\/127\.0\.0\.1:6379/);
    }
    expect(() => new RedisEngine({ url: 'redis://:secret@host:1/0', keyPrefix: 5 as unknown as string })).toThrow(/keyPrefix/);
    expect(() => new RedisEngine({ url: 'redis://:secret@host:1/bad' })).toThrow(/\*\*\*/);
    expect(() => new RedisEngine({ url: 'redis://h:1', commandTimeoutMs: -1 })).toThrow(/commandTimeoutMs/);
    expect(() => new RedisEngine({ url: 'redis://h:1?keyprefix=x' })).toThrow(/"keyprefix" is unknown \(known: keyPrefix\)/);
  });

  it('takes the key prefix from the URL too', async () => {
    const viaUrl = engineOn(`${standalone.url}/2?keyPrefix=fromurl:`);
    await one(viaUrl, { op: 'set', key: 'k', value: 1 });
    const redis = rawClient(`${standalone.url}/2`);
    expect(await redis.keys('*')).toStrictEqual(['fromurl:k:k']);
    const clusterEngine = engineOn(`${cluster.url}?keyPrefix={app}:`);
    await clusterEngine.execute(Array.from({ length: 10 }, (_, i): Command => ({ op: 'set', key: `k${i}`, value: i })));
    const perNode = await Promise.all(cluster.nodes.map(async (node) => (await rawClient(node.url).keys('{app}:*')).length));
    expect(perNode.sort()).toStrictEqual([0, 0, 10]); // one hash tag: one slot, so one node
  });
});
