import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/wait-for';
import type { Command, GetResult, ScanResult } from '../../src/commands/commands';
import { LixError } from '../../src/commands/errors';
import { MemoryEngine } from '../../src/memory/memory-engine';
import { describeEngineConformance } from '../engine-conformance';

describeEngineConformance('MemoryEngine', async (options) => new MemoryEngine({ sweepIntervalMs: 20, ...options }));

async function withEngine<T>(options: ConstructorParameters<typeof MemoryEngine>[0], body: (engine: MemoryEngine) => Promise<T>): Promise<T> {
  const engine = new MemoryEngine(options);
  try {
    return await body(engine);
  } finally {
    await engine.close();
  }
}

const keys = (page: ScanResult): string[] => page.keys ?? page.items!.map((item) => item.key);

describe('MemoryEngine', () => {
  it('evicts the least recently used keys past the item limit, and counts them', async () => {
    await withEngine({ limit: 3 }, async (engine) => {
      await engine.execute([
        { op: 'set', key: 'a', value: 1 },
        { op: 'set', key: 'b', value: 2 },
        { op: 'set', key: 'c', value: 3 },
        { op: 'get', key: 'a' }, // a is now more recent than b
        { op: 'set', key: 'd', value: 4 },
      ]);
      const results = (await engine.execute(['a', 'b', 'c', 'd'].map((key): Command => ({ op: 'exists', key })))).map((r) => (r as { exists: boolean }).exists);
      expect(results).toStrictEqual([true, false, true, true]);
      const stats = await engine.stats();
      expect(stats).toMatchObject({ size: 3, limit: 3, evictions: 1 });
      // An evicted key leaves the indexes too.
      expect(engine.indexSizes()).toMatchObject({ keys: 3, sorted: 3 });
    });
  });

  it('overwriting a key does not evict anything', async () => {
    await withEngine({ limit: 2 }, async (engine) => {
      await engine.execute([
        { op: 'set', key: 'a', value: 1 },
        { op: 'set', key: 'b', value: 2 },
        { op: 'set', key: 'a', value: 3 },
        { op: 'incr', key: 'b' },
      ]);
      expect((await engine.stats()).evictions).toBe(0);
    });
  });

  it('evicts the least recently used keys past maxMemory, never the key just written', async () => {
    const value = 'x'.repeat(1000);
    await withEngine({ maxMemory: 5000 }, async (engine) => {
      for (let i = 0; i < 20; i++) await engine.execute([{ op: 'set', key: `k${i}`, value, tags: ['t'] }]);
      const stats = await engine.stats();
      expect(stats.memory).toBeLessThanOrEqual(5000);
      expect(stats.maxMemory).toBe(5000);
      expect(stats.evictions).toBe(20 - stats.size);
      expect(stats.size).toBeGreaterThanOrEqual(3);
      const newest = (await engine.execute([{ op: 'get', key: 'k19' }]))[0] as GetResult;
      expect(newest.found).toBe(true);
      const oldest = (await engine.execute([{ op: 'exists', key: 'k0' }]))[0];
      expect(oldest).toMatchObject({ exists: false });
      // Evicted keys left their tag.
      const tagged = (await engine.execute([{ op: 'scan', tag: 't', keysOnly: true }]))[0] as ScanResult;
      expect(tagged.count).toBe(stats.size);

      // A single value larger than the budget is kept on its own.
      await engine.execute([{ op: 'set', key: 'huge', value: 'y'.repeat(8000) }]);
      expect(await engine.stats()).toMatchObject({ size: 1 });
      expect(((await engine.execute([{ op: 'get', key: 'huge' }]))[0] as GetResult).found).toBe(true);
    });
  });

  it('memory estimate grows with writes and returns to zero once keys are gone', async () => {
    await withEngine({}, async (engine) => {
      expect((await engine.stats()).memory).toBe(0);
      await engine.execute([{ op: 'set', key: 'a', value: 'x'.repeat(10_000), tags: ['t1', 't2'] }]);
      const written = (await engine.stats()).memory;
      expect(written).toBeGreaterThan(10_000);
      await engine.execute([{ op: 'set', key: 'a', value: 'short' }]);
      expect((await engine.stats()).memory).toBeLessThan(written - 9000);
      await engine.execute([{ op: 'incr', key: 'n' }, { op: 'merge', key: 'm', value: { a: 1 } }, { op: 'delete', key: 'a' }, { op: 'delete', key: 'n' }]);
      expect((await engine.stats()).memory).toBe(0);
    });
  });

  it('the sweep reclaims expired keys nobody reads', async () => {
    await withEngine({ sweepIntervalMs: 10 }, async (engine) => {
      const count = 2000;
      await engine.execute(Array.from({ length: count }, (_, i): Command => ({ op: 'set', key: `s${i}`, value: i, ttl: 0.05 + (i % 10) / 100, tags: [`tag${i % 7}`] })));
      await engine.execute([{ op: 'set', key: 'keeper', value: 1, tags: ['tag0'] }]);
      expect((await engine.stats()).size).toBe(count + 1);
      await waitFor(async () => (await engine.stats()).size === 1, { what: 'the sweep to reclaim every expired key' });
      const stats = await engine.stats();
      expect(stats.expirations).toBe(count);
      expect(stats.hits + stats.misses).toBe(0);
      expect(engine.indexSizes()).toStrictEqual({ keys: 1, sorted: 1, tags: 1, expiryBuckets: 0 });
    });
  });

  it('re-expiring a key moves it between expiry buckets without leaving stale entries', async () => {
    await withEngine({ sweepIntervalMs: 10 }, async (engine) => {
      await engine.execute([{ op: 'set', key: 'k', value: 1, ttl: 100 }]);
      for (let i = 1; i <= 50; i++) await engine.execute([{ op: 'get', key: 'k', touch: 100 + i }]);
      expect(engine.indexSizes().expiryBuckets).toBe(1);
      await engine.execute([{ op: 'expire', key: 'k', ttl: 0 }]);
      expect(engine.indexSizes().expiryBuckets).toBe(0);
    });
  });

  it('the tag index shrinks as tagged keys go', async () => {
    await withEngine({}, async (engine) => {
      await engine.execute(Array.from({ length: 100 }, (_, i): Command => ({ op: 'set', key: `k${i}`, value: i, tags: [`user:${i}`, 'all'] })));
      expect(engine.indexSizes().tags).toBe(101);
      await engine.execute(Array.from({ length: 50 }, (_, i): Command => ({ op: 'delete', key: `k${i}` })));
      expect(engine.indexSizes().tags).toBe(51);
      await engine.execute(Array.from({ length: 25 }, (_, i): Command => ({ op: 'set', key: `k${50 + i}`, value: i })));
      expect(engine.indexSizes().tags).toBe(26);
      await engine.execute([{ op: 'invalidate', tag: 'all' }]);
      expect(engine.indexSizes()).toMatchObject({ tags: 0, keys: 25 });
      await engine.execute([{ op: 'clear' }]);
      expect(engine.indexSizes()).toStrictEqual({ keys: 0, sorted: 0, tags: 0, expiryBuckets: 0 });
    });
  });

  it('scans a prefix among many keys, and pages through all of them', async () => {
    await withEngine({}, async (engine) => {
      const total = 20_000;
      for (let start = 0; start < total; start += 1000) {
        await engine.execute(Array.from({ length: 1000 }, (_, i): Command => ({ op: 'set', key: `item:${String(start + i).padStart(5, '0')}`, value: start + i })));
      }
      await engine.execute([{ op: 'set', key: 'other:1', value: 1 }]);
      const page = (await engine.execute([{ op: 'scan', prefix: 'item:0001', keysOnly: true }]))[0] as ScanResult;
      expect(keys(page)).toStrictEqual(Array.from({ length: 10 }, (_, i) => `item:0001${i}`));
      const seen = new Set<string>();
      let cursor: string | null = null;
      do {
        const next = (await engine.execute([{ op: 'scan', prefix: 'item:', limit: 5000, keysOnly: true, cursor }]))[0] as ScanResult;
        for (const key of keys(next)) seen.add(key);
        cursor = next.cursor;
      } while (cursor !== null);
      expect(seen.size).toBe(total);
    });
  });

  it('a resumed scan continues after the cursor key even if it was deleted meanwhile', async () => {
    await withEngine({}, async (engine) => {
      await engine.execute(['a', 'b', 'c', 'd'].map((key): Command => ({ op: 'set', key: `p:${key}`, value: key })));
      const first = (await engine.execute([{ op: 'scan', prefix: 'p:', limit: 2, keysOnly: true }]))[0] as ScanResult;
      expect(first.keys).toStrictEqual(['p:a', 'p:b']);
      await engine.execute([{ op: 'delete', key: 'p:b' }]);
      const second = (await engine.execute([{ op: 'scan', prefix: 'p:', limit: 2, keysOnly: true, cursor: first.cursor }]))[0] as ScanResult;
      expect(second).toStrictEqual({ op: 'scan', keys: ['p:c', 'p:d'], count: 2, cursor: null });
    });
  });

  it('incr refuses to leave the finite numbers', async () => {
    await withEngine({}, async (engine) => {
      await engine.execute([{ op: 'set', key: 'n', value: 1e308 }]);
      const [result] = await engine.execute([{ op: 'incr', key: 'n', amount: 1e308 }]);
      expect(result).toMatchObject({ op: 'incr', key: 'n', error: { code: 'invalid_amount' } });
      expect(((await engine.execute([{ op: 'get', key: 'n' }]))[0] as GetResult).value).toBe(1e308);
    });
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => new MemoryEngine({ limit: 0 })).toThrow(/"limit" must be a whole number/);
    expect(() => new MemoryEngine({ maxMemory: -1 })).toThrow(/"maxMemory"/);
    expect(() => new MemoryEngine({ sweepIntervalMs: 1.5 })).toThrow(/"sweepIntervalMs"/);
    expect(() => new MemoryEngine({ limits: { maxValueBytes: -5 } })).toThrow(/maxValueBytes/);
  });

  it('applies its limits to values', async () => {
    await withEngine({ limits: { maxValueBytes: 10 } }, async (engine) => {
      const [big, merged] = await engine.execute([
        { op: 'set', key: 'a', value: 'x'.repeat(20) },
        { op: 'set', key: 'b', value: { a: 1 } },
      ]);
      expect(big).toMatchObject({ error: { code: 'value_too_large' } });
      expect(merged).toMatchObject({ written: true });
      const [grown] = await engine.execute([{ op: 'merge', key: 'b', value: { bb: 'long enough' } }]);
      expect(grown).toMatchObject({ error: { code: 'value_too_large' } });
      expect(((await engine.execute([{ op: 'get', key: 'b' }]))[0] as GetResult).value).toStrictEqual({ a: 1 });
    });
  });

  it('after close, execute rejects with unavailable and health says so', async () => {
    const engine = new MemoryEngine();
    await engine.close();
    await engine.close();
    await expect(engine.execute([{ op: 'get', key: 'a' }])).rejects.toSatisfy((error: unknown) => error instanceof LixError && error.code === 'unavailable');
    expect(await engine.health()).toMatchObject({ ok: false });
  });
});
