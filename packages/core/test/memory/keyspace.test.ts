import { describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/memory/keyspace';

const T0 = 1_000_000;
const RESOLUTION = 100;

function keyspace(limit = 100): Keyspace {
  return new Keyspace({ limit, maxMemory: 0, resolutionMs: RESOLUTION, now: T0 });
}

const liveKeys = (space: Keyspace, keys: string[], now: number): string[] => keys.filter((key) => space.live(key, now) !== undefined);

describe('Keyspace', () => {
  it('evicts in least-recently-used order: reads and rewrites make a key recent, peeks do not', () => {
    const space = keyspace(4);
    for (const key of ['a', 'b', 'c', 'd']) space.put(key, 1, 0, undefined);
    space.get('a', T0); // order: b c d a
    space.put('b', 2, 0, undefined); // c d a b
    space.peek('c', T0); // unchanged
    space.put('e', 1, 0, undefined); // evicts c
    expect(liveKeys(space, ['a', 'b', 'c', 'd', 'e'], T0)).toStrictEqual(['a', 'b', 'd', 'e']);
    space.put('f', 1, 0, undefined); // evicts d
    space.put('g', 1, 0, undefined); // evicts a
    expect(liveKeys(space, ['a', 'b', 'd', 'e', 'f', 'g'], T0)).toStrictEqual(['b', 'e', 'f', 'g']);
    expect(space.evictions).toBe(3);
  });

  it('keeps its recency list intact through deletes and clear', () => {
    const space = keyspace(3);
    for (const key of ['a', 'b', 'c']) space.put(key, 1, 0, undefined);
    space.delete('b', space.peek('b', T0)!);
    space.delete('a', space.peek('a', T0)!); // the least recent one
    space.put('d', 1, 0, undefined);
    space.put('e', 1, 0, undefined);
    space.put('f', 1, 0, undefined); // evicts c, the only survivor of the first three
    expect(liveKeys(space, ['a', 'b', 'c', 'd', 'e', 'f'], T0)).toStrictEqual(['d', 'e', 'f']);
    space.clear(T0);
    for (const key of ['x', 'y', 'z', 'w']) space.put(key, 1, 0, undefined);
    expect(liveKeys(space, ['x', 'y', 'z', 'w'], T0)).toStrictEqual(['y', 'z', 'w']);
    expect(space.size).toBe(3);
  });

  it('an expired key at the least recent end is counted as expired, not evicted', () => {
    const space = keyspace(2);
    const now = Date.now();
    space.put('old', 1, now - 1, undefined);
    space.put('a', 1, 0, undefined);
    space.put('b', 1, 0, undefined);
    expect(space).toMatchObject({ evictions: 0, expirations: 1, size: 2 });
  });

  it('a sweep stopped at its budget resumes, skipping keys deleted or re-filed meanwhile', () => {
    const space = keyspace();
    const expiresAt = T0 + 10; // all in the first slot
    const all = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const key of all) space.put(key, 1, expiresAt, undefined);
    const later = T0 + 5 * RESOLUTION;
    expect(space.sweep(later, 2)).toBe(2);
    expect(space.size).toBe(4);
    // Between two calls: of the keys still waiting, one is deleted, one written again with a later expiry,
    // one made permanent; one new key lands in a later slot.
    const [deleted, rewritten, permanent, expiring] = all.filter((key) => space.peek(key, T0) !== undefined);
    space.delete(deleted!, space.peek(deleted!, T0)!);
    space.put(rewritten!, 2, later + 10 * RESOLUTION, undefined);
    space.setExpiry(permanent!, space.peek(permanent!, T0)!, 0);
    space.put('new', 1, later + 20 * RESOLUTION, undefined);
    expect(space.sweep(later, 100)).toBeGreaterThan(0);
    expect(liveKeys(space, [deleted!, rewritten!, permanent!, expiring!, 'new'], later)).toStrictEqual([rewritten, permanent, 'new']);
    expect(space).toMatchObject({ expirations: 3, size: 3 });
    expect(space.indexSizes).toStrictEqual({ keys: 3, sorted: 3, tags: 0, expiryBuckets: 2 });
    // The other two go when their time comes.
    expect(space.sweep(later + 30 * RESOLUTION, 100)).toBe(2);
    expect(space.indexSizes).toStrictEqual({ keys: 1, sorted: 1, tags: 0, expiryBuckets: 0 });
    expect(space.live(permanent!, later + 100 * RESOLUTION)).toBeDefined();
  });

  it('after a long pause, sweeps far-apart slots in order without walking every slot between', () => {
    const space = keyspace();
    const day = 24 * 3600 * 1000;
    space.put('soon', 1, T0 + 1000, undefined);
    space.put('tomorrow', 1, T0 + day, undefined);
    space.put('next-year', 1, T0 + 365 * day, undefined);
    expect(space.sweep(T0 + 2 * day, 1)).toBe(1);
    expect(liveKeys(space, ['soon', 'tomorrow', 'next-year'], T0)).toStrictEqual(['tomorrow', 'next-year']);
    expect(space.sweep(T0 + 2 * day, 100)).toBe(1);
    expect(space.size).toBe(1);
    // A key written now files after the swept range and is reclaimed by a later sweep.
    space.put('fresh', 1, T0 + 2 * day + 50, undefined);
    expect(space.sweep(T0 + 2 * day + 10 * RESOLUTION, 100)).toBe(1);
    expect(liveKeys(space, ['fresh', 'next-year'], T0)).toStrictEqual(['next-year']);
  });

  it('re-setting a key within one slot keeps one bucket entry; moving it to another slot moves it', () => {
    const space = keyspace();
    space.put('k', 1, T0 + 1000, undefined);
    space.put('k', 2, T0 + 1001, undefined);
    expect(space.indexSizes.expiryBuckets).toBe(1);
    space.put('k', 3, T0 + 5000, undefined);
    expect(space.indexSizes.expiryBuckets).toBe(1);
    // Expiry time inside the slot is still exact: the key lives until T0 + 5000, not to the slot's end.
    expect(space.live('k', T0 + 4999)).toBeDefined();
    expect(space.live('k', T0 + 5000)).toBeUndefined();
    expect(space.sweep(T0 + 5000 + RESOLUTION, 100)).toBe(1);
    expect(space.size).toBe(0);
  });
});
