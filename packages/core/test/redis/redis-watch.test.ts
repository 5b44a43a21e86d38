import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../../../../test/helpers/redis-process';
import { waitFor } from '../../../../test/helpers/wait-for';
import type { Watch } from '../../src/commands/engine';
import { watching as watchingEngine, type Heard } from '../change-recorder';
import { RedisEngine } from '../../src/redis/redis-engine';

// RedisEngine.watch across processes: what other engines write, what falls outside the feed, and the feed going down and up.

let standalone: RedisProcess;
let cluster: RedisCluster;
beforeAll(async () => {
  [standalone, cluster] = await Promise.all([startRedis(), startRedisCluster({ masters: 3 })]);
});

const engines: RedisEngine[] = [];
const raws: Redis[] = [];
const watches: Watch[] = [];
const stops: (() => Promise<void>)[] = [];
function engineOn(url: string, options: Partial<ConstructorParameters<typeof RedisEngine>[0]> = {}): RedisEngine {
  const engine = new RedisEngine({ url, ...options });
  engines.push(engine);
  return engine;
}
function rawClient(url: string): Redis {
  const client = new Redis(url);
  client.on('error', () => undefined); // tests stop servers under it
  raws.push(client);
  return client;
}
afterEach(() => {
  for (const watch of watches.splice(0)) watch.close();
});
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  raws.forEach((client) => client.disconnect());
  await Promise.all([standalone?.stop(), cluster?.stop(), ...stops.map((stop) => stop())]);
});

/** A recording listener on `engine`, live (bounded wait); closed after each test. */
const watching = (engine: RedisEngine) => watchingEngine(engine, watches);

async function reported(heard: Heard, ...keys: string[]): Promise<void> {
  await waitFor(() => keys.every((key) => heard.keys.has(key)), { what: `changed(${keys.join(', ')})` });
}

/** The feed connections (CLIENT SETNAME lix-change-feed) open on one Redis server. */
async function feedConnections(redis: Redis): Promise<string[]> {
  const list = (await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  return list.split('\n').filter((line) => line.includes('name=lix-change-feed'));
}

describe('RedisEngine.watch on a standalone Redis', () => {
  let url: string;
  let redis: Redis;
  beforeAll(() => {
    url = `${standalone.url}/1`;
    redis = rawClient(url);
  });

  it('a write through one engine is reported to another engine watching the same prefix', async () => {
    const writer = engineOn(url, { keyPrefix: 'two:' });
    const watcher = engineOn(url, { keyPrefix: 'two:' });
    const { heard } = await watching(watcher);
    await writer.execute([{ op: 'set', key: 'from-a', value: 1 }, { op: 'incr', key: 'counter' }]);
    await reported(heard, 'from-a', 'counter');
    // Keys containing anything, unicode included, come back exactly.
    await writer.execute([{ op: 'set', key: 'ü日🎉 ,\n*?', value: 1 }]);
    await reported(heard, 'ü日🎉 ,\n*?');
    expect(heard.all).toBe(0);
    expect(heard.live).toStrictEqual([true]);
  });

  it('keys outside the prefix are not reported: other prefixes, tag sets, other apps', async () => {
    const mine = engineOn(url, { keyPrefix: 'mine:' });
    const other = engineOn(url, { keyPrefix: 'other:' });
    const { heard } = await watching(mine);
    await other.execute([{ op: 'set', key: 'x', value: 1 }]);
    await redis.set('mine:x', 1); // not under mine:k:
    await redis.set('minex', 1);
    await mine.execute([{ op: 'set', key: 'tagged', value: 1, tags: ['t'] }]); // writes mine:t:t too
    // Redis sends invalidations of one connection in order, and those writes came first.
    await mine.execute([{ op: 'set', key: 'last', value: 1 }]);
    await reported(heard, 'last');
    expect([...heard.keys].sort()).toStrictEqual(['last', 'tagged']);
  });

  it('a flush of any db is reported as changedAll', async () => {
    const engine = engineOn(url, { keyPrefix: 'flush:' });
    const { heard } = await watching(engine);
    await rawClient(`${standalone.url}/5`).flushdb();
    await waitFor(() => heard.all === 1, { what: 'changedAll()' });
  });

  it('a killed feed connection: live(false), then live(true) once tracking is set up again, and changes are reported', async () => {
    const writer = engineOn(url, { keyPrefix: 'kill:' });
    const watcher = engineOn(url, { keyPrefix: 'kill:' });
    const { heard, watch } = await watching(watcher);
    const [feed] = await feedConnections(redis);
    expect(feed).toBeDefined();
    await redis.client('KILL', 'ID', /\bid=(\d+)/.exec(feed!)![1]!);
    await waitFor(() => heard.live.includes(false), { what: 'live(false)' });
    await waitFor(() => watch.live, { what: 'the watch to be live again' });
    expect(heard.live).toStrictEqual([true, false, true]);
    await writer.execute([{ op: 'set', key: 'after', value: 1 }]);
    await reported(heard, 'after');
  });

  it('the feed connection opens with the first watcher, closes with the last, and engine.close() tells watchers live(false)', async () => {
    const server = await startRedis();
    stops.push(() => server.stop());
    const raw = rawClient(server.url);
    const engine = engineOn(server.url);
    expect(await feedConnections(raw)).toHaveLength(0);
    const first = await watching(engine);
    const second = await watching(engine);
    expect(await feedConnections(raw)).toHaveLength(1);
    first.watch.close();
    expect(await feedConnections(raw)).toHaveLength(1);
    second.watch.close();
    await waitFor(async () => (await feedConnections(raw)).length === 0, { what: 'the feed connection to close' });
    const third = await watching(engine);
    await engine.close();
    expect(third.watch.live).toBe(false);
    expect(third.heard.live).toStrictEqual([true, false]);
    await waitFor(async () => (await feedConnections(raw)).length === 0, { what: 'the feed connection to close' });
    // A watch on a closed engine never goes live.
    const late = engine.watch({ changed: () => undefined, changedAll: () => undefined, live: () => undefined });
    expect(late.live).toBe(false);
    late.close();
  });

  it('Redis restarting takes the feed down and up again', async () => {
    const server = await startRedis();
    stops.push(() => server.stop());
    const engine = engineOn(server.url);
    const { heard, watch } = await watching(engine);
    await server.stop();
    await waitFor(() => !watch.live, { what: 'the watch to go down' });
    await server.restart();
    await waitFor(() => watch.live, { what: 'the watch to be live again', timeoutMs: 10_000 });
    // The engine's own connection may come back after the feed's.
    await waitFor(async () => (await engine.health()).ok, { what: 'the engine to reconnect' });
    await engine.execute([{ op: 'set', key: 'back', value: 1 }]);
    await reported(heard, 'back');
    expect(heard.live).toStrictEqual([true, false, true]);
  });

  it('a Redis that stops answering takes the feed down within the ping interval plus commandTimeoutMs, and up once it answers', async () => {
    const server = await startRedis();
    stops.push(() => server.stop());
    const pid = Number(/process_id:(\d+)/.exec(await rawClient(server.url).info('server'))![1]);
    const engine = engineOn(server.url, { commandTimeoutMs: 300 });
    const { heard, watch } = await watching(engine);
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(() => !watch.live, { what: 'the watch to go down', timeoutMs: 8000 });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(() => watch.live, { what: 'the watch to be live again', timeoutMs: 10_000 });
    await waitFor(async () => (await engine.health()).ok, { what: 'the engine to answer again' });
    await engine.execute([{ op: 'set', key: 'thawed', value: 1 }]);
    await reported(heard, 'thawed');
    expect(heard.live).toStrictEqual([true, false, true]);
  }, 20_000);

  it('reports keys that Redis evicts at maxmemory', async () => {
    const server = await startRedis({ args: ['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru'] });
    stops.push(() => server.stop());
    const engine = engineOn(server.url);
    const raw = rawClient(server.url);
    const { heard } = await watching(engine);
    const value = 'x'.repeat(10_000);
    const write = async (name: string, batches: number): Promise<string[]> => {
      const keys: string[] = [];
      for (let batch = 0; batch < batches; batch++) {
        const more = Array.from({ length: 50 }, (_, i) => `${name}${batch}:${i}`);
        keys.push(...more);
        await engine.execute(more.map((key) => ({ op: 'set', key, value })));
      }
      return keys;
    };
    // About 2 MB, then 4 MB more into 4 MB. LRU idle times have a resolution of 1 s, so Redis evicts
    // nearly at random among keys this young: about a third of the first keys go (none: odds ~1e-35).
    const first = await write('first', 4);
    await reported(heard, ...first);
    heard.keys.clear();
    await write('then', 8);
    const present = await Promise.all(first.map((key) => raw.exists(`lix:k:${key}`)));
    const evicted = first.filter((_, i) => present[i] === 0);
    expect(evicted.length).toBeGreaterThan(0);
    // Nothing else touched the first keys since their writes were reported.
    await reported(heard, ...evicted);
  });

  it('a Redis that refuses CLIENT TRACKING keeps the feed down, warns what to do, and it comes up once allowed', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await redis.acl('SETUSER', 'notrack', 'on', '>secret', '~*', '&*', '+@all', '-client|tracking');
      const engine = engineOn(`redis://notrack:secret@${standalone.host}:${standalone.port}/1`, { keyPrefix: 'acl:' });
      const heard: Heard = { keys: new Set(), all: 0, live: [] };
      const watch = engine.watch({ changed: (key) => void heard.keys.add(key), changedAll: () => void heard.all++, live: (up) => void heard.live.push(up) });
      watches.push(watch);
      await waitFor(() => warn.mock.calls.length > 0, { what: 'a warning' });
      const [message, options] = warn.mock.calls[0]!;
      expect(String(message)).toMatch(/refused change tracking .*NOPERM.*Redis 6 or later.*CLIENT TRACKING/);
      expect(options).toMatchObject({ code: 'LIX_REDIS_TRACKING_REFUSED' });
      expect(watch.live).toBe(false);
      // Writes still work; only the feed is down.
      expect(await engine.execute([{ op: 'set', key: 'k', value: 1 }])).toMatchObject([{ success: true }]);
      await redis.acl('SETUSER', 'notrack', '+client|tracking');
      await waitFor(() => watch.live, { what: 'the watch to be live once allowed' });
      await engine.execute([{ op: 'set', key: 'allowed', value: 1 }]);
      await reported(heard, 'allowed');
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});

/** Each slot range of a Cluster and the port of its master. */
async function slotRanges(nodeUrl: string): Promise<{ from: number; to: number; port: number }[]> {
  const ranges = await rawClient(nodeUrl).cluster('SLOTS');
  return ranges.map(([from, to, master]) => ({ from, to, port: master![1] }));
}

describe('RedisEngine.watch on a 3-master Redis Cluster', () => {
  /** Master port → a key (of `keyPrefix`) whose Redis key lives in one of that master's slots. */
  async function keyPerMaster(keyPrefix: string): Promise<Map<number, string>> {
    const ranges = await slotRanges(cluster.nodes[0]!.url);
    const ownerOf = (slot: number) => ranges.find(({ from, to }) => slot >= from && slot <= to)!.port;
    const keys = new Map<number, string>();
    for (let i = 0; keys.size < 3; i++) {
      const port = ownerOf(calculateSlot(`${keyPrefix}k:key${i}`));
      if (!keys.has(port)) keys.set(port, `key${i}`);
    }
    return keys;
  }

  it('one feed connection per master; a write through one engine, in any master\'s slots, is reported to another', async () => {
    const writer = engineOn(cluster.url, { keyPrefix: 'cl:' });
    const watcher = engineOn(cluster.url, { keyPrefix: 'cl:' });
    const { heard } = await watching(watcher);
    for (const node of cluster.nodes) expect(await feedConnections(rawClient(node.url))).toHaveLength(1);
    const keys = [...(await keyPerMaster('cl:')).values()];
    await writer.execute(keys.map((key) => ({ op: 'set', key, value: 1 })));
    await reported(heard, ...keys);
    heard.keys.clear();
    await writer.execute(keys.map((key) => ({ op: 'delete', key })));
    await reported(heard, ...keys);
    expect(heard.live).toStrictEqual([true]);
  });

  it('keys outside the prefix are not reported', async () => {
    const mine = engineOn(cluster.url, { keyPrefix: 'cmine:' });
    const other = engineOn(cluster.url, { keyPrefix: 'cother:' });
    const { heard } = await watching(mine);
    // One hash tag: every write lands on one master, whose invalidations come in order.
    await other.execute([{ op: 'set', key: '{h}x', value: 1 }]);
    await mine.execute([{ op: 'set', key: '{h}last', value: 1 }]);
    await reported(heard, '{h}last');
    expect([...heard.keys]).toStrictEqual(['{h}last']);
  });

  it('a killed feed connection to one master takes the feed down until tracking is back there', async () => {
    const writer = engineOn(cluster.url, { keyPrefix: 'ckill:' });
    const watcher = engineOn(cluster.url, { keyPrefix: 'ckill:' });
    const { heard, watch } = await watching(watcher);
    const byPort = await keyPerMaster('ckill:');
    const [port, key] = [...byPort][1]!;
    const node = rawClient(`redis://127.0.0.1:${port}`);
    const [feed] = await feedConnections(node);
    await node.client('KILL', 'ID', /\bid=(\d+)/.exec(feed!)![1]!);
    await waitFor(() => heard.live.includes(false), { what: 'live(false)' });
    await waitFor(() => watch.live, { what: 'the watch to be live again' });
    expect(heard.live).toStrictEqual([true, false, true]);
    await writer.execute([{ op: 'set', key, value: 1 }]);
    await reported(heard, key);
  });

  it('a master that goes away keeps the feed down until it is back and tracked', async () => {
    const own = await startRedisCluster({ masters: 3 });
    stops.push(() => own.stop());
    const writer = engineOn(own.url, { keyPrefix: 'down:' });
    const watcher = engineOn(own.url, { keyPrefix: 'down:' });
    const { heard, watch } = await watching(watcher);
    const master = own.processes[2]!;
    const ranges = await slotRanges(own.nodes[0]!.url);
    let key = '';
    for (let i = 0; key === ''; i++) {
      const slot = calculateSlot(`down:k:key${i}`);
      if (ranges.some(({ from, to, port }) => slot >= from && slot <= to && port === master.port)) key = `key${i}`;
    }
    await master.stop();
    await waitFor(() => !watch.live, { what: 'the watch to go down' });
    await master.restart();
    await waitFor(() => watch.live, { what: 'the watch to be live again', timeoutMs: 15_000 });
    await waitFor(async () => (await writer.execute([{ op: 'set', key, value: 1 }]))[0]!, { what: 'a write to reach the restarted master', timeoutMs: 15_000 });
    await reported(heard, key);
    // Never up while the master was away (its slots had nobody tracking them).
    expect(heard.live).toStrictEqual([true, false, true]);
  });
});
