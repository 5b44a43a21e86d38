import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryEngine, parseCommand, type Result } from 'lix-cache-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LixCache, LixResponseTooLargeError } from '../src/index';

/**
 * The server's response budget (LIX_MAX_RESPONSE_BYTES), as the server answers it:
 * a batch runs all its commands, and the reads whose results would take the answer
 * past the budget come back in place as `response_too_large` error results. This
 * node:http server answers real batches from a real MemoryEngine and applies that
 * rule with a small budget, so the SDK's side of it runs on real batch responses.
 */

const BUDGET = 1024 * 1024;
const READS = new Set(['get', 'exists', 'scan']);

describe('reads past the server’s response budget', () => {
  let server: Server;
  let engine: MemoryEngine;
  let url: string;
  /** The commands of each batch the server answered. */
  const batches: string[][] = [];
  const clients: LixCache[] = [];
  const client = (config: ConstructorParameters<typeof LixCache>[0] = {}) => {
    const cache = new LixCache({ url, maxRetries: 0, ...config });
    clients.push(cache);
    return cache;
  };

  beforeAll(async () => {
    engine = new MemoryEngine({ limits: { maxValueBytes: 8 * BUDGET } });
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', async () => {
        const operations = (JSON.parse(body) as { operations: unknown[] }).operations;
        batches.push(operations.map((command) => `${(command as { op: string }).op} ${(command as { key?: string }).key ?? ''}`.trim()));
        const results: Result[] = await engine.execute(operations.map((command) => parseCommand(command)));
        let size = 0;
        for (let i = 0; i < results.length; i++) {
          const result = results[i]!;
          const bytes = Buffer.byteLength(JSON.stringify(result));
          if (READS.has(result.op) && size + bytes > BUDGET) {
            results[i] = {
              op: result.op,
              key: (result as { key: string }).key,
              error: { code: 'response_too_large', message: `This read would take the answer past ${BUDGET} bytes. Read it in a batch of its own, or raise the server's LIX_MAX_RESPONSE_BYTES.` },
            };
          } else size += bytes;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(async () => {
    await engine.execute([{ op: 'clear' }]);
    batches.length = 0;
  });
  afterAll(async () => {
    await Promise.all(clients.map((cache) => cache.close()));
    await engine.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const value = (n: number, bytes: number) => `${n}:`.padEnd(bytes, 'v');
  /** Stores `count` values of `bytes` each at big:0…, straight into the engine. */
  const store = async (count: number, bytes: number) => {
    const keys = Array.from({ length: count }, (_, n) => `big:${n}`);
    await engine.execute(keys.map((key, n) => ({ op: 'set', key, value: value(n, bytes) })));
    return keys;
  };

  it.each([1, 2])('Promise.all of many gets over the budget just works (maxInFlight %i): late reads are re-sent', async (maxInFlight) => {
    const keys = await store(40, 100 * 1024); // 4 MB in all, 10 per answer
    const cache = client({ batching: { maxInFlight } });
    const values = await Promise.all(keys.map((key) => cache.get(key)));
    expect(values).toEqual(keys.map((_, n) => value(n, 100 * 1024)));
    // The first batch carried all 40; each later one the reads the last left out.
    expect(batches[0]).toHaveLength(40);
    expect(batches.length).toBeGreaterThanOrEqual(4);
    expect(batches.flat().filter((command) => command.startsWith('get'))).toHaveLength(40 + 30 + 20 + 10);
  });

  it('batch() and scan pages are re-sent the same way', async () => {
    const keys = await store(15, 100 * 1024);
    const cache = client();
    const results = await cache.batch(keys.map((key) => ({ op: 'get', key })));
    expect(results.map((result) => (result as { value?: unknown }).value)).toEqual(keys.map((_, n) => value(n, 100 * 1024)));
    batches.length = 0;
    const pages = await Promise.all([cache.scan({ prefix: 'big:', limit: 8 }), cache.scan({ prefix: 'big:1', limit: 8 })]);
    expect(pages.map((page) => page.count)).toEqual([8, 6]); // big:1, big:10 … big:14
    expect(batches).toEqual([['scan', 'scan'], ['scan']]);
  });

  it('a read too large on its own rejects with the server’s typed error; the reads around it resolve', async () => {
    await engine.execute([
      { op: 'set', key: 'small:1', value: 'one' },
      { op: 'set', key: 'huge', value: value(0, 2 * BUDGET) },
      { op: 'set', key: 'small:2', value: 'two' },
    ]);
    const cache = client();
    const [one, huge, two] = await Promise.allSettled([cache.get('small:1'), cache.get('huge'), cache.get('small:2')]);
    expect(one).toEqual({ status: 'fulfilled', value: 'one' });
    expect(two).toEqual({ status: 'fulfilled', value: 'two' });
    const error = (huge as PromiseRejectedResult).reason as LixResponseTooLargeError;
    expect(error).toBeInstanceOf(LixResponseTooLargeError);
    expect(error.code).toBe('response_too_large');
    expect(error.message).toMatch(/LIX_MAX_RESPONSE_BYTES/);
    // Sent twice: late in the first batch, then first in its own.
    expect(batches.flat().filter((command) => command === 'get huge')).toHaveLength(2);
  });

  it('a re-sent read still sees the value from before a write issued after it', async () => {
    const keys = await store(11, 100 * 1024);
    const cache = client();
    const reads = keys.map((key) => cache.get(key)); // one batch; big:10 is past the budget
    await Promise.resolve();
    const write = cache.set('big:10', 'new'); // waits: it touches a key the batch in flight reads
    expect(await Promise.all(reads)).toEqual(keys.map((_, n) => value(n, 100 * 1024)));
    expect(await write).toBe(true);
    expect(await cache.get('big:10')).toBe('new');
    expect(batches[1]).toEqual(['get big:10', 'set big:10']);
  });

  it('a late read whose key a later command of its own batch wrote is not re-sent (it would see that write): it fails', async () => {
    const keys = await store(11, 100 * 1024);
    const cache = client();
    const reads = keys.map((key) => cache.get(key).catch((error: unknown) => error));
    const write = cache.set('big:10', 'new'); // same tick: same batch, after the read
    const values = await Promise.all(reads);
    expect(values.slice(0, 10)).toEqual(keys.slice(0, 10).map((_, n) => value(n, 100 * 1024)));
    expect(values[10]).toBeInstanceOf(LixResponseTooLargeError);
    expect(await write).toBe(true);
    expect(batches).toHaveLength(1);
  });

  it('errors other than response_too_large are not re-sent', async () => {
    await engine.execute([{ op: 'set', key: 'text', value: 'abc' }]);
    const cache = client();
    const [got, counted] = await Promise.allSettled([cache.get('text'), cache.incr('text')]);
    expect(got).toEqual({ status: 'fulfilled', value: 'abc' });
    expect((counted as PromiseRejectedResult).reason.code).toBe('non_numeric');
    expect(batches).toHaveLength(1);
  });
});
