import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

/**
 * A real server on a small heap (64 MiB old space) and no --max-memory: floods of
 * every shape, each several times what the heap holds, must be evicted, never
 * crash the process. Before the default budget, the first flood aborted it on
 * V8's heap limit.
 */
const HEAP_MIB = 64;
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({ env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` } });
});
afterAll(async () => {
  await server?.stop();
});

async function post(path: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

async function stats(): Promise<{ size: number; memory: number; maxMemory: number; stats: { evictions: number } }> {
  return (await fetch(`${server.url}/cache/stats`)).json() as never;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (match === null) throw new Error(`/metrics has no ${name}`);
  return Number(match[1]);
}

const pad = (i: number): string => String(i).padStart(8, '0');

/** `requests` batches of `perBatch` commands from `make`, `concurrency` requests at a time. */
async function flood(requests: number, perBatch: number, concurrency: number, make: (i: number) => Record<string, unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let r = next++; r < requests; r = next++) {
        const operations = Array.from({ length: perBatch }, (_, j) => ({ op: 'set', ...make(r * perBatch + j) }));
        const answer = await post('/cache/batch', { operations });
        expect(answer.status, answer.text.slice(0, 300)).toBe(200);
        expect(answer.text).not.toContain('"error"');
      }
    }),
  );
}

describe('memory that cannot run out (no --max-memory, a 64 MiB heap)', () => {
  it('derives the budget from the heap limit and says so at start-up', async () => {
    const heapLimit = await metric('lix_process_heap_limit_bytes');
    expect(heapLimit).toBeGreaterThan(HEAP_MIB * 2 ** 20);
    const { maxMemory } = await stats();
    // Half of the old space (the heap limit less up to 192 MiB of young generation) beyond 64 MiB.
    expect(maxMemory).toBe(Math.max(8 * 2 ** 20, Math.floor((heapLimit - 192 * 2 ** 20 - 64 * 2 ** 20) / 2)));
    expect(await metric('lix_cache_max_memory_bytes')).toBe(maxMemory);
    // pino writes asynchronously: the line may come after /health answers.
    const started = await waitFor(() => server.logs().split('\n').find((line) => line.includes('"Lix Cache started"')), { what: 'the start-up line' });
    expect(JSON.parse(started!)).toMatchObject({ maxMemory, maxMemorySource: 'derived from the heap limit', heapLimit });
  });

  const WORKLOADS: [string, number, number, number, (i: number) => Record<string, unknown>][] = [
    // name, requests, commands per request, concurrent requests, command
    ['1 MB values', 120, 1, 4, (i) => ({ key: `big:${pad(i)}`, value: 'x'.repeat(1_000_000) })],
    ['many tiny keys', 200, 1000, 2, (i) => ({ key: `tiny:${pad(i)}`, value: i })],
    ['32 unique tags per key', 50, 100, 2, (i) => ({ key: `tagged:${pad(i)}`, value: i, tags: Array.from({ length: 32 }, (_, t) => `t:${pad(i)}:${t}`) })],
    ['a TTL slot per key', 100, 1000, 2, (i) => ({ key: `ttl:${pad(i)}`, value: i, ttl: 3600 + i * 0.1 })],
    ['many keys per tag, long tags', 60, 250, 2, (i) => ({ key: `shared:${pad(i)}`, value: { i }, tags: Array.from({ length: 8 }, (_, t) => `${'g'.repeat(100)}${t}`) })],
  ];

  it.each(WORKLOADS)('a flood of %s is evicted, and the process stays up within its heap', { timeout: 120_000 }, async (_name, requests, perBatch, concurrency, make) => {
    const before = await stats();
    await flood(requests, perBatch, concurrency, make);
    const after = await stats();
    expect(server.process.exitCode).toBeNull();
    expect(after.stats.evictions).toBeGreaterThan(before.stats.evictions);
    expect(after.memory).toBeLessThanOrEqual(after.maxMemory);
    expect(after.size).toBeGreaterThan(0);
    // Garbage included, the heap never reached the limit (V8 would have aborted the process).
    expect(await metric('lix_process_heap_used_bytes')).toBeLessThan(await metric('lix_process_heap_limit_bytes'));
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('warns when an explicit --max-memory is more than the heap can hold, naming --max-old-space-size', async () => {
    const big = await startServer({ env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}`, LIX_MAX_MEMORY: '1gb' } });
    try {
      // /health can answer before the start-up lines come through the stdout pipe; the warning comes first.
      await waitFor(() => big.logs().includes('"Lix Cache started"'), { what: 'the start-up line' });
      const warning = big.logs().split('\n').find((line) => line.includes('"level":40'));
      expect(warning).toMatch(/--max-memory \(LIX_MAX_MEMORY\) of 1073741824 bytes is more than this process's heap \(limit \d+ MiB\) can hold/);
      expect(warning).toMatch(/NODE_OPTIONS=--max-old-space-size=\d+/);
      const started = JSON.parse(big.logs().split('\n').find((line) => line.includes('"Lix Cache started"'))!);
      expect(started).toMatchObject({ maxMemory: 1073741824, maxMemorySource: 'set' });
    } finally {
      await big.stop();
    }
  });
});
