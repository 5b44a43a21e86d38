import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
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
  afterEach(() => {
    proxy.hold = false;
    proxy.release();
  });

  it('sends every command issued in one tick as one request', async () => {
    const cache = client();
    const values = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.get<number>(`k:${i}`)));
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(proxy.total()).toBe(1);
    expect(proxy.batches).toEqual([50]);
  });

  it('batchWindow collects the commands of several ticks into one request', async () => {
    const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));
    const windowed = client({ batchWindow: 300 });
    const first = windowed.get<number>('k:1');
    await nextMacrotask(); // without a window, k:1 has left by now
    const second = windowed.get<number>('k:2');
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(proxy.batches).toEqual([2]);

    proxy.reset();
    const perTick = client();
    const third = perTick.get<number>('k:1');
    await nextMacrotask();
    const fourth = perTick.get<number>('k:2');
    expect(await Promise.all([third, fourth])).toEqual([1, 2]);
    expect(proxy.batches).toEqual([1, 1]);
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
    // read-only chunks go out concurrently, so they may arrive in any order
    expect(proxy.batches.toSorted((a, b) => b - a)).toEqual([10, 10, 5]);
  });

  it('the default cap matches the server default batch limit (1000)', async () => {
    const cache = client();
    const results = await cache.batch(Array.from({ length: 2001 }, (_, i) => ({ op: 'exists' as const, key: `k:${i % 50}` })));
    expect(results.every((result) => 'exists' in result && result.exists)).toBe(true);
    expect(proxy.batches.toSorted((a, b) => b - a)).toEqual([1000, 1000, 1]);
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

  // ---- adaptive batching: at most maxInFlight requests out, the rest coalesce ----

  const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('under load, commands from many callers wait for a free slot and leave together', async () => {
    const cache = client({ batching: { maxInFlight: 4 } });
    proxy.hold = true; // the server "is slow": nothing is answered until release()
    let issued = 0;
    const callers = Array.from({ length: 50 }, async (_, i) => {
      for (let t = 0; t < i; t++) await nextTick(); // each caller in its own tick
      issued++;
      return cache.get<number>(`k:${i}`);
    });
    await waitFor(() => issued === 50, { what: 'every caller to issue its get' });
    await waitFor(() => proxy.total() === 4, { what: 'four requests at the proxy' });
    expect(proxy.batches).toEqual([1, 1, 1, 1]); // four slots, then the other 46 callers queue
    proxy.hold = false;
    proxy.release();
    expect(await Promise.all(callers)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(proxy.batches).toEqual([1, 1, 1, 1, 46]);
  });

  it('by default two batches are in flight at once', async () => {
    const cache = client();
    proxy.hold = true;
    const gets = [cache.get('k:1')];
    for (let i = 2; i <= 4; i++) {
      await nextTick();
      gets.push(cache.get(`k:${i}`));
    }
    await waitFor(() => proxy.total() === 2);
    expect(proxy.batches).toEqual([1, 1]);
    proxy.hold = false;
    proxy.release();
    expect(await Promise.all(gets)).toEqual([1, 2, 3, 4]);
    expect(proxy.batches).toEqual([1, 1, 2]);
  });

  it('maxInFlight: 1 sends one batch at a time; each answer takes everything queued meanwhile', async () => {
    const cache = client({ batching: { maxInFlight: 1 } });
    proxy.hold = true;
    const first = cache.set('solo:a', 1);
    await waitFor(() => proxy.total() === 1);
    const rest = [cache.incr('solo:n'), cache.get('solo:a')];
    await nextTick();
    rest.push(cache.incr('solo:n'), cache.exists('solo:a'));
    proxy.hold = false;
    proxy.release();
    expect(await Promise.all([first, ...rest])).toEqual([true, 1, 1, 2, true]);
    expect(proxy.batches).toEqual([1, 4]);
  });

  it("a caller's set-then-get in separate ticks: the get waits for the set's request, never overtakes it", async () => {
    const cache = client();
    await cache.set('order:a', 'old');
    proxy.reset();
    proxy.hold = true; // the set reaches the server only on release()
    const set = cache.set('order:a', 'new');
    await waitFor(() => proxy.total() === 1);
    proxy.hold = false; // from now on requests pass at once: a get sent now would read "old"
    await nextTick();
    const get = cache.get('order:a');
    const exists = cache.exists('order:a');
    await new Promise((resolve) => setTimeout(resolve, 50)); // time for a wrongly sent get to be answered first
    expect(proxy.total()).toBe(1);
    proxy.release();
    expect(await Promise.all([set, get, exists])).toEqual([true, 'new', true]);
    expect(proxy.batches).toEqual([1, 2]);
  });

  it('of a huge flush, read-only chunks go out concurrently; a chunk reading a key an earlier chunk writes waits for it', async () => {
    const cache = client({ batching: { maxBatchSize: 10, maxInFlight: 4 } }); // slots to spare: only the order rule holds chunk 3 back
    proxy.hold = true;
    const writes = Array.from({ length: 10 }, (_, i) => cache.set(`chunk:w:${i}`, i * 10)); // chunk 1: writes
    const reads = Array.from({ length: 10 }, (_, i) => cache.get<number>(`k:${i}`)); // chunk 2: other keys
    const readBack = Array.from({ length: 10 }, (_, i) => cache.get<number>(`chunk:w:${i}`)); // chunk 3: chunk 1's keys
    await waitFor(() => proxy.total() === 2, { what: 'chunks 1 and 2 in flight together' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // time for a wrongly sent chunk 3
    expect(proxy.batches).toEqual([10, 10]);
    proxy.hold = false;
    proxy.release();
    expect(await Promise.all(readBack)).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(await Promise.all(writes)).toEqual(Array(10).fill(true));
    expect(proxy.batches).toEqual([10, 10, 10]);
  });

  it('clear waits for every batch in flight, and later commands wait for it', async () => {
    const cache = client();
    await cache.set('wipe:a', 1);
    proxy.reset();
    try {
      proxy.hold = true;
      const before = cache.get('wipe:a');
      await waitFor(() => proxy.total() === 1);
      await nextTick();
      const cleared = cache.clear();
      await nextTick();
      const after = cache.get('wipe:a');
      await new Promise((resolve) => setTimeout(resolve, 50)); // time for a wrongly sent clear
      expect(proxy.total()).toBe(1);
      proxy.hold = false;
      proxy.release();
      expect(await before).toBe(1);
      expect((await cleared).cleared).toBeGreaterThanOrEqual(1);
      expect(await after).toBeNull();
      expect(proxy.batches).toEqual([1, 2]);
    } finally {
      proxy.hold = false;
      proxy.release();
      await cache.batch(Array.from({ length: 50 }, (_, i) => ({ op: 'set' as const, key: `k:${i}`, value: i }))); // the other tests read these
    }
  });

  it('identical gets queued while the slots are busy share one command', async () => {
    const cache = client({ batching: { maxInFlight: 1 } });
    const before = await operations();
    proxy.reset();
    proxy.hold = true;
    const first = cache.get('k:3');
    await waitFor(() => proxy.total() === 1);
    const queued: Promise<unknown>[] = [];
    for (let t = 0; t < 5; t++) {
      await nextTick();
      queued.push(cache.get('k:4'));
    }
    proxy.hold = false;
    proxy.release();
    expect(await Promise.all([first, ...queued])).toEqual([3, 4, 4, 4, 4, 4]);
    expect(proxy.batches).toEqual([1, 1]);
    expect((await operations()) - before).toBe(2);
  });

  it('a failed batch rejects only its own callers; commands queued behind it still go', async () => {
    const cache = client({ batching: { maxInFlight: 1 }, maxRetries: 0 });
    proxy.hold = true;
    proxy.dropResponses = 1; // the first request reaches the server, its answer is lost
    const lost = cache.incr('fail:n'); // incr: never retried once it may have reached the server
    await waitFor(() => proxy.total() === 1);
    await nextTick();
    const queued = cache.get('k:5');
    proxy.hold = false;
    proxy.release();
    await expect(lost).rejects.toMatchObject({ code: 'connection_failed' });
    expect(await queued).toBe(5);
    expect(proxy.batches).toEqual([1, 1]);
  });
});
