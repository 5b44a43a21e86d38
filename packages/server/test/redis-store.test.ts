import { SessionStore } from 'lix-cache-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, type RedisProcess, startRedis, startRedisCluster } from '../../../test/helpers/redis-process';
import { runCli, type ServerProcess, startServer } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { jsonCall as call } from './http-client';

// Spawns the built CLI (packages/server/dist): run `npm run build` first (root `npm test` does).

const servers: ServerProcess[] = [];
async function lixOn(store: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServer({ args: ['--store', store], env: { LOG_LEVEL: 'warn', ...env } });
  servers.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

describe('lix-cache-server --store redis://', () => {
  let redis: RedisProcess;
  let lix: ServerProcess;
  beforeAll(async () => {
    redis = await startRedis({ persistence: true });
    lix = await lixOn(redis.url);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('serves the API from Redis', async () => {
    expect(await call(lix, '/health')).toStrictEqual({ status: 200, json: { status: 'healthy' } });
    expect(await call(lix, '/cache/set', { key: 'user:1', value: { name: 'Ada' }, ttl: 100 })).toMatchObject({ status: 200, json: { success: true } });
    const got = await call(lix, '/cache/get?key=user:1');
    expect(got.status).toBe(200);
    expect(got.json.value).toStrictEqual({ name: 'Ada' });
    expect(got.json.ttl).toBeGreaterThan(99);
    expect(await call(lix, '/cache/incr', { key: 'hits', amount: 2 })).toMatchObject({ json: { value: 2 } });
    expect(await call(lix, '/cache/get?key=missing')).toMatchObject({ status: 404 });
    const stats = await call(lix, '/cache/stats');
    expect(stats.status).toBe(200);
    expect(stats.json.size).toBeGreaterThanOrEqual(2);
  });

  it('answers 503 with a clear message while Redis is down, and recovers without a restart, keeping what Redis kept', async () => {
    await call(lix, '/cache/batch', {
      operations: [
        { op: 'set', key: 'kept:1', value: 'one', tags: ['kept'] },
        { op: 'set', key: 'kept:2', value: 'two', tags: ['kept'] },
      ],
    });
    const pid = lix.process.pid;
    let running = true;
    const seen = { ok: 0, unavailable: 0, other: [] as unknown[] };
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const response = await call(lix, '/cache/set', { key: `t:${i}`, value: i }).catch((error: unknown) => ({ status: 0, json: String(error) }));
        if (response.status === 200) seen.ok++;
        else if (response.status === 503 && /unavailable: Redis at 127\.0\.0\.1:\d+ is unreachable/.test(response.json.error)) seen.unavailable++;
        else seen.other.push(response);
        if (response.status !== 200) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await waitFor(() => seen.ok > 10, { what: 'traffic to flow' });
      await redis.stop();
      await waitFor(() => seen.unavailable > 5, { what: 'requests to get 503 while Redis is down' });
      const health = await call(lix, '/health');
      expect(health.status).toBe(503);
      // The public /health names no host or port (see secrets.test.ts); the log has the detail.
      expect(health.json).toMatchObject({ status: 'unhealthy', code: 'unavailable', error: expect.stringContaining('see the server log') });
      await waitFor(() => /Redis at 127\.0\.0\.1:\d+ is unreachable/.test(lix.logs()), { what: 'the cause in the log' });
      const get = await call(lix, '/cache/get?key=kept:1');
      expect(get.status).toBe(503);
      expect(get.json.error).toMatch(/The cache store is unavailable/);

      await redis.restart();
      await waitFor(async () => (await call(lix, '/health')).status === 200, { what: '/health to recover', timeoutMs: 15_000 });
      const okAfter = seen.ok;
      await waitFor(() => seen.ok > okAfter + 10, { what: 'traffic to flow again' });
    } finally {
      running = false;
      await traffic;
    }
    expect(seen.other).toStrictEqual([]);
    expect(lix.process.pid).toBe(pid);
    expect(lix.process.exitCode).toBeNull();
    expect((await call(lix, '/cache/get?key=kept:1')).json.value).toBe('one');
    expect((await call(lix, '/cache/get?key=hits')).json.value).toBe(2);
    const tagged = await call(lix, '/cache/batch', { operations: [{ op: 'scan', tag: 'kept', keysOnly: true }] });
    expect(tagged.json.results[0].keys.sort()).toStrictEqual(['kept:1', 'kept:2']);
  });

  it('starts while Redis is down, answering 503 until it is up', async () => {
    const later = await startRedis();
    await later.stop();
    try {
      const server = await lixOn(later.url);
      expect((await call(server, '/health')).status).toBe(503);
      expect((await call(server, '/cache/get?key=a')).status).toBe(503);
      await later.restart();
      await waitFor(async () => (await call(server, '/health')).status === 200, { what: 'the first connection', timeoutMs: 15_000 });
      expect((await call(server, '/cache/set', { key: 'a', value: 1 })).status).toBe(200);
    } finally {
      await later.stop();
    }
  });

  it('refuses a store URL it cannot use, saying what it takes', async () => {
    const bad = await runCli(['--store', 'redis-cluster://'], { PORT: '0' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/redis-cluster:\/\/host1:7000,host2:7001/);
  });
});

describe('two Lix servers on one Redis Cluster', () => {
  let cluster: RedisCluster;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    [a, b] = await Promise.all([lixOn(cluster.url), lixOn(`redis-cluster://${cluster.nodes[2]!.host}:${cluster.nodes[2]!.port}`)]);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('share one keyspace: what A writes, B reads, scans and invalidates', async () => {
    await call(a, '/cache/batch', {
      operations: Array.from({ length: 20 }, (_, i) => ({ op: 'set', key: `item:${i}`, value: i, tags: [i % 2 ? 'odd' : 'even'] })),
    });
    expect((await call(b, '/cache/get?key=item:7')).json.value).toBe(7);
    const scan = await call(b, '/cache/scan?prefix=item:&keys_only=true');
    expect(scan.json.count).toBe(20);
    expect(await call(b, '/cache/invalidate', { tag: 'odd' })).toMatchObject({ status: 200, json: { deleted: 10 } });
    expect((await call(a, '/cache/get?key=item:7')).status).toBe(404);
    expect((await call(a, '/cache/get?key=item:8')).json.value).toBe(8);
  });

  it('a session created through A is read, listed and revoked through B', async () => {
    const viaA = new SessionStore({ cache: a.url, prefix: 'session:' });
    const viaB = new SessionStore({ cache: b.url, prefix: 'session:' });
    try {
      const id = await viaA.create('user-42', { deviceName: 'laptop', role: 'admin' });
      const other = await viaA.create('user-42', { deviceName: 'phone' });
      expect(await viaB.get(id)).toMatchObject({ userId: 'user-42', role: 'admin' });
      const devices = await viaB.list('user-42', { currentId: other });
      expect(devices).toHaveLength(2);
      const laptop = devices.find((device) => !device.current)!;
      expect(await viaB.revoke('user-42', laptop.handle)).toBe(true);
      expect(await viaA.get(id)).toBeNull();
      expect(await viaA.get(other)).not.toBeNull();
      expect(await viaB.revokeAll('user-42')).toBe(1);
      expect(await viaA.get(other)).toBeNull();
      expect(await viaA.list('user-42')).toStrictEqual([]);
    } finally {
      await Promise.all([viaA.close(), viaB.close()]);
    }
  });
});
