import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { LixCache } from '../src/index';
import { startCountingProxy, type CountingProxy } from './helpers/counting-proxy';

/** Batching, proven by counting what reaches the real server: requests at a proxy, commands in the server's stats. */
describe('automatic batching', () => {
  let server: ServerProcess;
  let proxy: CountingProxy;
  const clients: LixCache[] = [];
  const client = (config: ConstructorParameters<typeof LixCache>[0] = {}) => {
    const cache = new LixCache({ url: proxy.url, ...config });
    clients.push(cache);
    return cache;
  };
  const operations = async () => (await (await fetch(`${server.url}/cache/stats`)).json()).stats.operations as number;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startCountingProxy(server.url);
    await client().batch(Array.from({ length: 50 }, (_, i) => ({ op: 'set' as const, key: `k:${i}`, value: i })));
  });
  afterAll(async () => {
    await Promise.all(clients.map((cache) => cache.close()));
    await proxy.close();
    expect(await server.stop()).toBe(0);
  });
  beforeEach(() => proxy.reset());

  it('sends every command issued in one tick as one request', async () => {
    const cache = client();
    const values = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.get<number>(`k:${i}`)));
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(proxy.total()).toBe(1);
    expect(proxy.batches).toEqual([50]);
  });

  it('mixes command types in the one request, in order', async () => {
    const cache = client();
    const [, value, count, exists] = await Promise.all([cache.set('mix', 'a'), cache.get('mix'), cache.incr('mix:n'), cache.exists('mix')]);
    expect([value, count, exists]).toEqual(['a', 1, true]);
    expect(proxy.batches).toEqual([4]);
  });

  it('sends identical gets in one tick as one command', async () => {
    const cache = client();
    const before = await operations();
    const values = await Promise.all([
      ...Array.from({ length: 20 }, () => cache.get('k:1')),
      cache.get('k:2'),
      cache.get('k:2', { touch: 60 }),
      cache.get('k:2', { touch: 60 }),
    ]);
    expect(values).toEqual([...Array(20).fill(1), 2, 2, 2]);
    expect(proxy.batches).toEqual([3]);
    expect((await operations()) - before).toBe(3);
  });

  it('splits a batch bigger than maxBatchSize into requests of at most that size', async () => {
    const cache = client({ batching: { maxBatchSize: 10 } });
    const values = await Promise.all(Array.from({ length: 25 }, (_, i) => cache.get<number>(`k:${i}`)));
    expect(values).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(proxy.batches).toEqual([10, 10, 5]);
  });

  it('the default cap matches the server default batch limit (1000)', async () => {
    const cache = client();
    const results = await cache.batch(Array.from({ length: 2001 }, (_, i) => ({ op: 'exists' as const, key: `k:${i % 50}` })));
    expect(results.every((result) => 'exists' in result && result.exists)).toBe(true);
    expect(proxy.batches).toEqual([1000, 1000, 1]);
  });

  it('batching: false sends each command on its own', async () => {
    const cache = client({ batching: false });
    const values = await Promise.all(Array.from({ length: 5 }, (_, i) => cache.get<number>(`k:${i}`)));
    expect(values).toEqual([0, 1, 2, 3, 4]);
    expect(proxy.total()).toBe(5);
    expect(proxy.batches).toEqual([1, 1, 1, 1, 1]);
  });

  it('commands issued in different ticks go out separately', async () => {
    const cache = client();
    await cache.get('k:1');
    await cache.get('k:2');
    expect(proxy.batches).toEqual([1, 1]);
  });
});
