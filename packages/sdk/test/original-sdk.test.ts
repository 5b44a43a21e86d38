import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../test/helpers/redis-process';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { LixCache, isErrorResult, type BatchOperation, type BatchResult, type ClearResult, type HealthResponse, type ScanResult } from '../src/index';

/**
 * Code written for the original Lix Cache SDK, run through every transport:
 * http:// against the real server process, memory:// in-process, redis:// against a real redis-server.
 */
describe.each(['http', 'memory', 'redis'])('original SDK code over %s://', (transport) => {
  let server: ServerProcess | undefined;
  let redis: RedisProcess | undefined;
  let cache: LixCache;

  beforeAll(async () => {
    if (transport === 'http') {
      server = await startServer();
      cache = new LixCache({ url: server.url, batchWindow: 10, localCache: false, localCacheTTL: 60 });
    } else if (transport === 'redis') {
      redis = await startRedis();
      cache = new LixCache({ url: `${redis.url}?keyPrefix=original-sdk:`, batchWindow: 10 });
    } else {
      cache = new LixCache({ url: 'memory://original-sdk', batchWindow: 10 });
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

  it('clear() resolves { success: true, cleared }', async () => {
    await Promise.all([cache.set('c:1', 1), cache.set('c:2', 2), cache.set('c:3', 3)]);
    const result: ClearResult = await cache.clear();
    expect(result).toEqual({ success: true, cleared: 3 });
    expect(await cache.clear()).toEqual({ success: true, cleared: 0 });
  });

  it('health() carries status next to ok', async () => {
    const health: HealthResponse = await cache.health();
    expect(health.status).toBe('healthy');
    expect(await cache.health()).toEqual({ ok: true, status: 'healthy' });
  });

  it('stats() carries { size, limit, stats: { hits, misses, … } } next to the flat counters', async () => {
    const before = await cache.stats();
    await cache.set('s:1', 'x');
    await cache.get('s:1');
    await cache.get('s:1');
    await cache.get('s:missing');
    const after = await cache.stats();
    expect(after.size).toBe(1);
    expect(typeof after.limit).toBe('number');
    expect(after.stats.hits - before.stats.hits).toBe(2);
    expect(after.stats.misses - before.stats.misses).toBe(1);
    expect(after.stats.operations).toBeGreaterThan(before.stats.operations);
    const { hits, misses, evictions, expirations, operations } = after;
    expect(after.stats).toEqual({ hits, misses, evictions, expirations, operations });
  });

  it('scan() results read as the original ScanResult', async () => {
    await cache.set('user:1', { name: 'Ann' });
    await cache.set('user:2', { name: 'Bob' });
    const items: ScanResult<{ name: string }> = await cache.scan<{ name: string }>('user:');
    expect(items.count).toBe(2);
    expect(items.items?.map(({ key, value }) => [key, value.name]).sort()).toEqual([['user:1', 'Ann'], ['user:2', 'Bob']]);
    const keys: ScanResult = await cache.scan('user:', { keysOnly: true });
    expect([...(keys.keys ?? [])].sort()).toEqual(['user:1', 'user:2']);
    expect(keys.count).toBe(2);
  });

  it('batch() takes BatchOperations and answers with BatchResult fields', async () => {
    const operations: BatchOperation[] = [
      { op: 'set', key: 'b:1', value: { n: 1 }, ttl: 60 },
      { op: 'get', key: 'b:1' },
      { op: 'delete', key: 'b:1' },
      { op: 'get', key: 'b:1' },
    ];
    const results = await cache.batch(operations);
    const original: BatchResult[] = results.map((result) => {
      if (isErrorResult(result)) throw new Error(`unexpected error result ${JSON.stringify(result)}`);
      return result as BatchResult;
    });
    expect(original).toMatchObject([
      { op: 'set', key: 'b:1', success: true },
      { op: 'get', key: 'b:1', value: { n: 1 } },
      { op: 'delete', key: 'b:1', success: true },
      { op: 'get', key: 'b:1', value: null },
    ]);
  });
});
