import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { LixCache, LixResponseTooLargeError } from '../src/index';
import { startCountingProxy, type CountingProxy } from './helpers/counting-proxy';

/**
 * The server's response budget (LIX_MAX_RESPONSE_BYTES): a batch runs all its commands, and the
 * reads whose results would take the answer past the budget come back in place as
 * `response_too_large` error results. The real server runs with a small budget; the SDK reaches it
 * through a counting proxy that records the commands of every batch it sends.
 *
 * memory:// is not covered: its URL cannot set limits (so its budget is the 64 MiB default), and it
 * runs each command as its own engine call, so no read ever comes late in a batch.
 */

/** Each read of a value costs key + 64 + its JSON length (core's ResponseBudget): 10 `big:` values fit in 100,000 bytes, 11 do not. */
const BUDGET = 100_000;
const VALUE_CHARS = 9_800;
/** The budget must be at least maxValueBytes + maxKeyBytes (1024) + 1024. */
const SERVER_LIMITS = { LIX_MAX_RESPONSE_BYTES: String(BUDGET), LIX_MAX_VALUE_BYTES: '16kb' };

const value = (n: number, chars = VALUE_CHARS) => `${n}:`.padEnd(chars, 'v');

describe('reads past the server’s response budget', () => {
  let server: ServerProcess;
  let proxy: CountingProxy;
  /** Straight to the server (not counted): stores and clears. */
  let direct: LixCache;
  const clients: LixCache[] = [];
  /** A client through the counting proxy. */
  const client = (config: ConstructorParameters<typeof LixCache>[0] = {}) => {
    const cache = new LixCache({ url: proxy.url, maxRetries: 0, ...config });
    clients.push(cache);
    return cache;
  };

  beforeAll(async () => {
    server = await startServer({ env: SERVER_LIMITS });
    proxy = await startCountingProxy(server.url);
    direct = new LixCache({ url: server.url, maxRetries: 0 });
  });
  beforeEach(async () => {
    await direct.clear();
    proxy.reset();
  });
  afterAll(async () => {
    await Promise.all([direct, ...clients].map((cache) => cache.close()));
    await proxy.close();
    expect(await server.stop()).toBe(0);
  });

  /** Stores `count` values at big:0…, straight to the server. */
  const store = async (count: number) => {
    const keys = Array.from({ length: count }, (_, n) => `big:${n}`);
    await direct.batch(keys.map((key, n) => ({ op: 'set', key, value: value(n) })));
    return keys;
  };
  const gets = () => proxy.commands.flat().filter((command) => command.startsWith('get '));

  it.each([1, 2])('Promise.all of many gets over the budget just works (maxInFlight %i): late reads are re-sent', async (maxInFlight) => {
    const keys = await store(40); // about 400 KB in all, 10 per answer
    const cache = client({ batching: { maxInFlight } });
    const values = await Promise.all(keys.map((key) => cache.get(key)));
    expect(values).toEqual(keys.map((_, n) => value(n)));
    // The first batch carried all 40; each later one the reads the last left out.
    expect(proxy.batches).toEqual([40, 30, 20, 10]);
    expect(proxy.commands[1]).toEqual(keys.slice(10).map((key) => `get ${key}`));
    expect(gets()).toHaveLength(40 + 30 + 20 + 10);
  });

  it('batch() and scan pages are re-sent the same way', async () => {
    const keys = await store(15);
    const cache = client();
    const results = await cache.batch(keys.map((key) => ({ op: 'get', key })));
    expect(results.map((result) => (result as { value?: unknown }).value)).toEqual(keys.map((_, n) => value(n)));
    expect(proxy.batches).toEqual([15, 5]);
    proxy.reset();
    // The first page spends all but about one value's worth of the budget, so not even the first item
    // of the second fits: the server fails that scan with response_too_large and the SDK re-sends it.
    const pages = await Promise.all([cache.scan({ prefix: 'big:', limit: 10 }), cache.scan({ prefix: 'big:1', limit: 8 })]);
    expect(pages.map((page) => page.count)).toEqual([10, 6]); // big:1, big:10 … big:14
    expect(pages[1]!.cursor).toBeNull();
    expect(proxy.commands).toEqual([['scan', 'scan'], ['scan']]);
  });

  it('a scan page the budget cuts short (after its first item) ends early with a cursor and is not re-sent', async () => {
    await store(15);
    const cache = client();
    const [first, second] = await Promise.all([cache.scan({ prefix: 'big:', limit: 8 }), cache.scan({ prefix: 'big:1', limit: 8 })]);
    expect(first.count).toBe(8);
    expect(second.count).toBe(2); // big:1, big:10: what the first page left of the budget
    expect(second.cursor).not.toBeNull();
    expect(proxy.commands).toEqual([['scan', 'scan']]);
    const rest = await cache.scan({ prefix: 'big:1', limit: 8, cursor: second.cursor! });
    expect([...second.items, ...rest.items].map((item) => item.key)).toEqual(['big:1', 'big:10', 'big:11', 'big:12', 'big:13', 'big:14']);
  });

  it('a re-sent read still sees the value from before a write issued after it', async () => {
    const keys = await store(11);
    const cache = client();
    const reads = keys.map((key) => cache.get(key)); // one batch; big:10 is past the budget
    await Promise.resolve();
    const write = cache.set('big:10', 'new'); // waits: it touches a key the batch in flight reads
    expect(await Promise.all(reads)).toEqual(keys.map((_, n) => value(n)));
    expect(await write).toBe(true);
    expect(await cache.get('big:10')).toBe('new');
    expect(proxy.commands[1]).toEqual(['get big:10', 'set big:10']);
  });

  it('a late read whose key a later command of its own batch wrote is not re-sent (it would see that write): it fails', async () => {
    const keys = await store(11);
    const cache = client();
    const reads = keys.map((key) => cache.get(key).catch((error: unknown) => error));
    const write = cache.set('big:10', 'new'); // same tick: same batch, after the read
    const values = await Promise.all(reads);
    expect(values.slice(0, 10)).toEqual(keys.slice(0, 10).map((_, n) => value(n)));
    expect(values[10]).toBeInstanceOf(LixResponseTooLargeError);
    expect(await write).toBe(true);
    expect(proxy.batches).toEqual([12]);
    expect(await direct.get('big:10')).toBe('new');
  });

  it('errors other than response_too_large are not re-sent', async () => {
    await direct.set('text', 'abc');
    const cache = client();
    // The scan is a late read (not the batch's first) that fails for another reason.
    const [got, counted, scanned] = await Promise.allSettled([cache.get('text'), cache.incr('text'), cache.scan({ cursor: 'not-a-cursor' })]);
    expect(got).toEqual({ status: 'fulfilled', value: 'abc' });
    expect((counted as PromiseRejectedResult).reason.code).toBe('non_numeric');
    expect((scanned as PromiseRejectedResult).reason.code).toBe('invalid_scan');
    expect(proxy.commands).toEqual([['get text', 'incr text', 'scan']]);
  });
});

/**
 * A single read larger than the budget: the server only stores values of at most LIX_MAX_VALUE_BYTES,
 * and the budget must hold one such value, so this happens only when the limits were lowered after the
 * value was stored. Written with the default limits (1 MiB values) into a data directory, then read by
 * a server started on that directory with the small limits.
 */
describe('a read too large on its own (limits lowered after it was stored)', () => {
  let dataDir: string;
  let server: ServerProcess;
  let proxy: CountingProxy;
  let cache: LixCache;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lix-response-budget-'));
    const writer = await startServer({ env: { LIX_DATA_DIR: dataDir } });
    const seed = new LixCache({ url: writer.url, maxRetries: 0 });
    await seed.batch([
      { op: 'set', key: 'small:1', value: 'one' },
      { op: 'set', key: 'huge', value: value(0, 2 * BUDGET) },
      { op: 'set', key: 'small:2', value: 'two' },
    ]);
    await seed.close();
    expect(await writer.stop()).toBe(0);
    server = await startServer({ env: { ...SERVER_LIMITS, LIX_DATA_DIR: dataDir } });
    proxy = await startCountingProxy(server.url);
    cache = new LixCache({ url: proxy.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await cache?.close();
    await proxy?.close();
    if (server) expect(await server.stop()).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('rejects with the server’s typed error naming LIX_MAX_RESPONSE_BYTES; the reads around it resolve', async () => {
    const [one, huge, two] = await Promise.allSettled([cache.get('small:1'), cache.get('huge'), cache.get('small:2')]);
    expect(one).toEqual({ status: 'fulfilled', value: 'one' });
    expect(two).toEqual({ status: 'fulfilled', value: 'two' });
    const error = (huge as PromiseRejectedResult).reason as LixResponseTooLargeError;
    expect(error).toBeInstanceOf(LixResponseTooLargeError);
    expect(error.code).toBe('response_too_large');
    expect(error.message).toMatch(/LIX_MAX_RESPONSE_BYTES/);
    // Sent twice: late in the first batch, then first (and alone) in its own.
    expect(proxy.commands).toEqual([['get small:1', 'get huge', 'get small:2'], ['get huge']]);
  });
});
