import { Redis, ReplyError } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../../../../test/helpers/redis-process';
import { waitFor } from '../../../../test/helpers/wait-for';
import type { Command, ErrorResult, ScanResult } from '../../src/commands/commands';
import { LixError } from '../../src/commands/errors';
import { RedisEngine } from '../../src/redis/redis-engine';
import { classifyRedisFailure } from '../../src/redis/redis-failures';

// Redis going away under traffic, scan cursors that reveal nothing, messages without the password.

const open: RedisEngine[] = [];
const stops: (() => Promise<void>)[] = [];
function engineOn(url: string, options: Partial<ConstructorParameters<typeof RedisEngine>[0]> = {}): RedisEngine {
  const engine = new RedisEngine({ url, ...options });
  open.push(engine);
  return engine;
}
async function standalone(options: Parameters<typeof startRedis>[0] = {}): Promise<RedisProcess> {
  const redis = await startRedis(options);
  stops.push(() => redis.stop());
  return redis;
}
async function cluster(persistence = false): Promise<RedisCluster> {
  const redis = await startRedisCluster({ masters: 3, persistence });
  stops.push(() => redis.stop());
  return redis;
}
afterAll(async () => {
  await Promise.all(open.map((engine) => engine.close()));
  await Promise.all(stops.map((stop) => stop()));
});

function unreachable(where: string): string {
  return `The cache store is unavailable: Redis at ${where} is unreachable. Requests will work again once it is reachable.`;
}

/** Every kind of call a server makes, in turn: single and batched per-key ops, scans, invalidate, stats. */
function trafficCall(engine: RedisEngine, i: number): Promise<unknown> {
  const key = `k${i % 200}`;
  switch (i % 7) {
    case 0:
      return engine.execute([{ op: 'set', key, value: { i }, ttl: 60, tags: ['all', `g${i % 5}`] }]);
    case 1:
      return engine.execute([{ op: 'get', key, touch: 60 }]);
    case 2:
      return engine.execute(Array.from({ length: 20 }, (_, j): Command => ({ op: 'incr', key: `n${(i + j) % 50}` })));
    case 3:
      return engine.execute([{ op: 'scan', prefix: 'k1', keysOnly: true, limit: 10 }]);
    case 4:
      return engine.execute([{ op: 'scan', tag: 'all', limit: 10 }]);
    case 5:
      return engine.execute([{ op: 'invalidate', tag: `g${i % 5}` }]);
    default:
      return engine.stats();
  }
}

/**
 * Four callers keep calling while `stop` takes Redis (or part of it) away and `start` brings it
 * back, `rounds` times; resolves with every distinct failure seen as `code: message`.
 */
async function underTraffic(engine: RedisEngine, rounds: number, stop: () => Promise<void>, start: () => Promise<void>): Promise<{ failures: Map<string, number>; ok: number }> {
  let running = true;
  let ok = 0;
  let failed = 0;
  const failures = new Map<string, number>();
  const caller = async (offset: number) => {
    for (let i = offset; running; i += 4) {
      try {
        const results = await trafficCall(engine, i);
        // A command's own error result must not stand for Redis being away either.
        const own = Array.isArray(results) ? (results as { error?: { code: string; message: string } }[]).find((result) => result.error) : undefined;
        if (own) {
          failed++;
          const text = `error result ${own.error!.code}: ${own.error!.message}`;
          failures.set(text, (failures.get(text) ?? 0) + 1);
        } else ok++;
      } catch (error) {
        failed++;
        const text = error instanceof LixError ? `${error.code}: ${error.message}` : `not a LixError: ${String(error)}`;
        failures.set(text, (failures.get(text) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  };
  const callers = [0, 1, 2, 3].map(caller);
  try {
    for (let round = 0; round < rounds; round++) {
      const okBefore = ok;
      await waitFor(() => ok > okBefore + 30, { what: `traffic to flow (round ${round + 1})`, timeoutMs: 20_000 });
      await stop();
      const failedBefore = failed;
      await waitFor(() => failed > failedBefore + 20, { what: `calls to fail while Redis is down (round ${round + 1})`, timeoutMs: 20_000 });
      await start();
      await waitFor(async () => (await engine.health()).ok, { what: `the engine to reconnect (round ${round + 1})`, timeoutMs: 20_000 });
    }
    const okBefore = ok;
    await waitFor(() => ok > okBefore + 30, { what: 'traffic to flow after the last restart', timeoutMs: 20_000 });
  } finally {
    running = false;
    await Promise.all(callers);
  }
  return { failures, ok };
}

describe('RedisEngine while Redis stops under traffic', () => {
  it('knows every connection-state error of ioredis 5 and Node, and the replies of a Redis not serving', () => {
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
    const named = (message: string, name: string) => Object.defineProperty(new Error(message), 'name', { value: name });
    const unreachable = [
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('Connection is closed.'),
      new Error("Cluster isn't ready and enableOfflineQueue options is false"),
      new Error('None of startup nodes is available'),
      named('Failed to refresh slots cache.', 'ClusterAllFailedError'),
      named('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.', 'MaxRetriesPerRequestError'),
      named('Command aborted due to connection close', 'AbortError'),
      new Error('Cluster is disconnected.'),
      new Error('Node is disconnected'),
      new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'),
      withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('write EPIPE', 'EPIPE'),
      new ReplyError('CLUSTERDOWN The cluster is down'),
      new ReplyError('TRYAGAIN Multiple keys request during rehashing of slot'),
      new ReplyError('LOADING Redis is loading the dataset in memory'),
      new ReplyError('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no'),
      new ReplyError("READONLY You can't write against a read only replica."),
      new ReplyError('BUSY Redis is busy running a script.'),
      new ReplyError('MOVED 7436 127.0.0.1:24525'),
    ];
    for (const error of unreachable) expect([error.message, classifyRedisFailure(error)]).toStrictEqual([error.message, 'unreachable']);
    expect(classifyRedisFailure(new Error('Command timed out'))).toBe('timeout');
    expect(classifyRedisFailure(new ReplyError("OOM command not allowed when used memory > 'maxmemory'."))).toBe('out_of_memory');
    expect(classifyRedisFailure(new ReplyError('ERR something else'))).toBe('other');
  });

  it('standalone: every failure, at any instant of a disconnect, is unavailable with one fixed message', async () => {
    const redis = await standalone();
    const engine = engineOn(redis.url, { connectTimeoutMs: 500 });
    const { failures } = await underTraffic(engine, 3, () => redis.stop(), () => redis.restart());
    expect([...failures.keys()]).toStrictEqual([`unavailable: ${unreachable(`127.0.0.1:${redis.port}`)}`]);
  }, 120_000);

  it('Cluster: a master stopped and restarted, every failure is unavailable with one fixed message', async () => {
    const redis = await cluster(true);
    const engine = engineOn(redis.url, { connectTimeoutMs: 500 });
    const victim = redis.processes[1]!;
    const { failures } = await underTraffic(engine, 2, () => victim.stop(), () => victim.restart());
    expect([...failures.keys()]).toStrictEqual([`unavailable: ${unreachable(redis.url.slice('redis-cluster://'.length))}`]);
  }, 120_000);
});

/** The pages of a prefix scan, `limit` keys each. */
async function pages(engine: RedisEngine, prefix: string, limit: number): Promise<ScanResult[]> {
  const all: ScanResult[] = [];
  let cursor: string | null = null;
  do {
    const [page] = (await engine.execute([{ op: 'scan', prefix, keysOnly: true, limit, ...(cursor === null ? {} : { cursor }) }])) as ScanResult[];
    all.push(page!);
    cursor = page!.cursor;
  } while (cursor !== null && all.length < 100);
  return all;
}

describe('RedisEngine prefix scan cursors', () => {
  for (const where of ['standalone', 'Cluster'] as const) {
    it(`on ${where} Redis name no host or port, and still page through every key once`, async () => {
      const redis = where === 'standalone' ? await standalone() : await cluster();
      const engine = engineOn(redis.url);
      const ports = where === 'standalone' ? [(redis as RedisProcess).port] : (redis as RedisCluster).nodes.map((node) => node.port);
      const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`);
      await engine.execute(keys.map((key): Command => ({ op: 'set', key, value: 1 })));
      const scanned = await pages(engine, 'item:', 7);
      expect(scanned.flatMap((page) => page.keys!).sort()).toStrictEqual([...keys].sort());
      const cursors = scanned.map((page) => page.cursor).filter((cursor) => cursor !== null);
      expect(cursors.length).toBeGreaterThan(5);
      for (const cursor of cursors) {
        const text = Buffer.from(cursor, 'base64url').toString('utf8');
        expect(text).not.toMatch(/127\.0\.0\.1|localhost/);
        for (const port of ports) {
          expect(text).not.toContain(`:${port}`);
          expect(JSON.parse(text)).not.toContain(String(port));
        }
      }
    }, 60_000);
  }

  it('a cursor of a Redis that restarted since is refused with invalid_scan, saying to start again', async () => {
    const redis = await standalone({ persistence: true });
    const engine = engineOn(redis.url);
    await engine.execute(Array.from({ length: 30 }, (_, i): Command => ({ op: 'set', key: `item:${i}`, value: i })));
    const [first] = (await engine.execute([{ op: 'scan', prefix: 'item:', keysOnly: true, limit: 5 }])) as ScanResult[];
    expect(first!.cursor).not.toBeNull();
    await redis.restart();
    await waitFor(async () => (await engine.health()).ok, { what: 'the engine to reconnect', timeoutMs: 10_000 });
    const [resumed] = (await engine.execute([{ op: 'scan', prefix: 'item:', keysOnly: true, limit: 5, cursor: first!.cursor! }])) as ErrorResult[];
    expect(resumed!.error.code).toBe('invalid_scan');
    expect(resumed!.error.message).toMatch(/restarted .* Start the scan again without a cursor/);
    expect((await pages(engine, 'item:', 5)).flatMap((page) => page.keys!)).toHaveLength(30);
  }, 60_000);

  it('in a Cluster, a cursor of a master that restarted since is refused; cursors of the others still resume', async () => {
    const redis = await cluster(true);
    const engine = engineOn(redis.url);
    await engine.execute(Array.from({ length: 90 }, (_, i): Command => ({ op: 'set', key: `item:${i}`, value: i })));
    const scanned = await pages(engine, 'item:', 5);
    // The first page's cursor is on the master of slot 0: restarting another master keeps it valid, restarting that one does not.
    const first = scanned[0]!.cursor!;
    const [, masterIndex] = JSON.parse(Buffer.from(first, 'base64url').toString('utf8')) as string[];
    expect(masterIndex).toBe('0');
    const slotZero = await Promise.all(redis.nodes.map(async (node, i) => ({ i, info: await rawSlots(node.port) })));
    const owner = slotZero.find(({ info }) => info.some(([from]) => from === 0))!.i;
    const other = redis.processes.find((_, i) => i !== owner)!;
    await other.restart();
    await waitFor(async () => (await engine.health()).ok, { what: 'the cluster to recover', timeoutMs: 20_000 });
    const [still] = (await engine.execute([{ op: 'scan', prefix: 'item:', keysOnly: true, limit: 5, cursor: first }])) as ScanResult[];
    expect(still!.keys).toHaveLength(5);
    await redis.processes[owner]!.restart();
    await waitFor(async () => (await engine.health()).ok, { what: 'the cluster to recover', timeoutMs: 20_000 });
    const [refused] = (await engine.execute([{ op: 'scan', prefix: 'item:', keysOnly: true, limit: 5, cursor: first }])) as ErrorResult[];
    expect(refused!.error).toMatchObject({ code: 'invalid_scan', message: expect.stringMatching(/Start the scan again without a cursor/) });
  }, 90_000);
});

/** CLUSTER SLOTS of one node, as [from, to] ranges with their master's port. */
async function rawSlots(port: number): Promise<[number, number][]> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  try {
    await client.connect();
    const slots = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    return slots.filter(([, , [, owner]]) => owner === port).map(([from, to]) => [from, to]);
  } finally {
    client.disconnect();
  }
}

describe('RedisEngine messages never show the password', () => {
  const password = 'pa/ss@w:rd?x';
  const secret = [password, encodeURIComponent(password), 'pa/ss', 'w:rd'];
  const clean = (text: string | undefined) => {
    for (const part of secret) expect(text ?? '').not.toContain(part);
  };

  it('in URL errors, whatever the password holds', () => {
    for (const url of [`redis://:${password}@host:1/x`, `redis://user:${password}@host:99999`, `redis-cluster://:${password}@`, `redis://:${encodeURIComponent(password)}%zz@host:1`]) {
      let message = '';
      try {
        new RedisEngine({ url });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/Invalid Redis URL/);
      clean(message);
    }
  });

  it('in request errors and health, with Redis up, down, or refusing the password', async () => {
    const redis = await standalone();
    const admin = new Redis({ host: redis.host, port: redis.port });
    await admin.config('SET', 'requirepass', password); // not --requirepass: the test helper's start-up PING has no password
    admin.disconnect();
    const url = `redis://:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`;
    const engine = engineOn(url, { connectTimeoutMs: 300 });
    expect(await engine.execute([{ op: 'set', key: 'k', value: 1 }])).toMatchObject([{ written: true }]);
    const wrong = engineOn(`redis://:wrong-${encodeURIComponent(password)}@127.0.0.1:${redis.port}`, { connectTimeoutMs: 300 });
    const wrongHealth = await wrong.health();
    expect(wrongHealth.ok).toBe(false);
    clean(wrongHealth.message);
    const wrongError = (await wrong.execute([{ op: 'get', key: 'k' }]).catch((error: unknown) => error)) as LixError;
    expect(wrongError.code).toBe('unavailable');
    clean(wrongError.message);
    await redis.stop();
    const error = (await engine.execute([{ op: 'get', key: 'k' }]).catch((e: unknown) => e)) as LixError;
    expect(error.message).toBe(unreachable(`127.0.0.1:${redis.port}`));
    const health = await engine.health();
    expect(health.ok).toBe(false);
    clean(health.message);
  }, 60_000);
});
