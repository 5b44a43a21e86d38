import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/commands/commands';
import { MemoryEngine } from '../../src/memory/memory-engine';

/**
 * The memory estimate against the real heap: each workload goes into an engine
 * the way the server feeds it (commands parsed from JSON text), then a full GC,
 * and the heap it added is compared with `stats().memory`. The core README states
 * the factor: the live heap a store holds stays within ESTIMATE_FACTOR of its estimate.
 */
const ESTIMATE_FACTOR = 1.25;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function liveHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const pad = (i: number): string => String(i).padStart(8, '0');
const WORKLOADS: Record<string, { count: number; make: (i: number) => Record<string, unknown> }> = {
  'many tiny keys': { count: 40_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: i }) },
  'long keys': { count: 10_000, make: (i) => ({ op: 'set', key: `${'k'.repeat(500)}${pad(i)}`, value: 1 }) },
  '100-character values': { count: 20_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 'x'.repeat(100) }) },
  'non-Latin-1 values (two bytes a character)': { count: 20_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: '€'.repeat(100) }) },
  'objects': { count: 20_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: { name: 'Ada', id: i, roles: ['admin'] } }) },
  'large values': { count: 30, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 'x'.repeat(500_000) }) },
  'one TTL slot per key': { count: 20_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 1, ttl: 3600 + i * 0.1 }) },
  'shared TTL': { count: 20_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 1, ttl: 3600 }) },
  'a unique tag per key': { count: 20_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 1, tags: [`t${pad(i)}`] }) },
  '32 unique tags per key': { count: 1_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 1, tags: Array.from({ length: 32 }, (_, t) => `t${pad(i)}:${t}`) }) },
  '32 unique long tags per key': { count: 500, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 1, tags: Array.from({ length: 32 }, (_, t) => `${'t'.repeat(200)}${pad(i)}:${t}`) }) },
  'many keys per tag': { count: 5_000, make: (i) => ({ op: 'set', key: `k${pad(i)}`, value: 1, tags: Array.from({ length: 32 }, (_, t) => `tag${t}`) }) },
};

/** Feed `count` commands in batches of JSON text, as the server would; nothing of the requests stays reachable. */
async function feed(engine: MemoryEngine, count: number, make: (i: number) => Record<string, unknown>, offset = 0): Promise<void> {
  for (let i = 0; i < count; i += 200) {
    const batch = Array.from({ length: Math.min(200, count - i) }, (_, j) => make(offset + i + j));
    const results = await engine.execute(JSON.parse(JSON.stringify(batch)) as Command[]);
    if (results.some((result) => 'error' in result)) throw new Error(JSON.stringify(results.find((result) => 'error' in result)));
  }
}

describe('the memory estimate', () => {
  // Compile the paths first: code and feedback vectors are heap too, and must not be charged to the first workload.
  const warm = new MemoryEngine({ limit: 10_000_000 });
  const warmed = (async () => {
    for (const { make } of Object.values(WORKLOADS)) await feed(warm, 300, make);
    await warm.close();
  })();

  it.each(Object.entries(WORKLOADS))(`stays within ${ESTIMATE_FACTOR}x of the heap the keys really take: %s`, async (_name, { count, make }) => {
    await warmed;
    const before = liveHeap();
    const engine = new MemoryEngine({ limit: 10_000_000 });
    await feed(engine, count, make);
    const heap = liveHeap() - before;
    const { memory, size } = await engine.stats();
    expect(size).toBe(count);
    expect(heap / memory).toBeLessThanOrEqual(ESTIMATE_FACTOR);
    // And not so cautious that most of the budget is wasted (short shared tags, counted once per key
    // though JSON.parse shares strings of up to 10 characters, are the most over-counted: about 0.5).
    expect(heap / memory).toBeGreaterThan(0.4);
    await engine.close();
  });

  it.each(Object.entries(WORKLOADS))('a flood far past maxMemory evicts and the heap stays within the factor of the budget: %s', async (_name, { count, make }) => {
    await warmed;
    const maxMemory = 4 * 1024 * 1024;
    const before = liveHeap();
    const engine = new MemoryEngine({ limit: 10_000_000, maxMemory });
    // Write about four budgets' worth of data (by the estimate of the unbounded run above: count keys fill 6-20 MB).
    const rounds = 3;
    for (let round = 0; round < rounds; round++) await feed(engine, count, make, round * count);
    const heap = liveHeap() - before;
    const stats = await engine.stats();
    expect(stats.memory).toBeLessThanOrEqual(maxMemory);
    expect(stats.evictions).toBeGreaterThan(0);
    // Slack for the largest single key (a 500 KB value, or 32 long tags) which the budget always admits.
    expect(heap).toBeLessThanOrEqual(ESTIMATE_FACTOR * maxMemory + 1024 * 1024);
    await engine.close();
  });

  it('counts index structures once, and gives them back when keys leave', async () => {
    const engine = new MemoryEngine({ sweepIntervalMs: 10 });
    const empty = (await engine.stats()).memory;
    expect(empty).toBe(0);
    await engine.execute([
      { op: 'set', key: 'a', value: 1, tags: ['t1', 't2'], ttl: 0.05 },
      { op: 'set', key: 'b', value: 1, tags: ['t1'], ttl: 0.05 },
    ]);
    const two = (await engine.stats()).memory;
    await engine.execute([{ op: 'set', key: 'c', value: 1, tags: ['t3'], ttl: 1000 }]);
    const three = (await engine.stats()).memory;
    // A new tag and a new expiry bucket cost far more than a key's slot in existing ones.
    expect(three - two).toBeGreaterThan(700);
    await engine.execute([{ op: 'delete', key: 'c' }]);
    expect((await engine.stats()).memory).toBe(two);
    // Expired and swept: every structure is given back.
    const deadline = Date.now() + 5000;
    while ((await engine.stats()).size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await engine.stats()).toMatchObject({ size: 0, memory: 0 });
    await engine.close();
  });
});
