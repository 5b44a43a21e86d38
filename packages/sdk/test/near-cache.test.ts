import { afterEach, describe, expect, it } from 'vitest';
import { LixCache } from '../src/index';
import { waitFor } from '../../../test/helpers/wait-for';

// The near cache over memory://, where the engine's change feed is synchronous: every
// rule of the near cache shows here without a network. The HTTP channel, its drops and
// several processes are tested in test/near-cache/.

let counter = 0;
const open: LixCache[] = [];
function pair(nearCache: ConstructorParameters<typeof LixCache>[0] extends infer C ? (C extends { nearCache?: infer N } ? N : never) : never = true) {
  const url = `memory://near-${++counter}`;
  const near = new LixCache({ url, nearCache });
  const other = new LixCache({ url });
  open.push(near, other);
  return { near, other };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()));
});

describe('near cache over memory://', () => {
  it('answers repeated reads locally and drops a key the moment anyone changes it', async () => {
    const { near, other } = pair();
    await other.set('user:1', { name: 'Ada' });
    expect(await near.get('user:1')).toEqual({ name: 'Ada' });
    expect(await near.get('user:1')).toEqual({ name: 'Ada' });
    expect(await near.exists('user:1')).toBe(true);
    expect(near.nearCacheStats()).toMatchObject({ hits: 2, misses: 1, entries: 1, live: true });
    const changes: [string, () => Promise<unknown>][] = [
      ['set', () => other.set('user:1', { name: 'Bea' })],
      ['merge', () => other.merge('user:1', { age: 3 })],
      ['expire', () => other.expire('user:1', 100)],
      ['get with touch', () => other.get('user:1', { touch: 50 })],
      ['delete', () => other.delete('user:1')],
    ];
    for (const [what, change] of changes) {
      const before = await near.getEntry('user:1');
      await near.get('user:1'); // held
      const { invalidations } = near.nearCacheStats()!;
      await change();
      expect(near.nearCacheStats()!.invalidations, what).toBe(invalidations + 1);
      const after = await near.getEntry('user:1');
      expect(after, what).not.toEqual(before);
      const truth = await other.getEntry('user:1');
      expect(after?.value, what).toEqual(truth?.value);
      expect(Math.abs((after?.ttl ?? 0) - (truth?.ttl ?? 0)), what).toBeLessThan(0.5);
    }
  });

  it('a tag invalidation and clear reach held keys; a missing key is held as missing until it is written', async () => {
    const { near, other } = pair();
    await other.set('a', 1, { tags: ['t'] });
    await other.set('b', 2);
    expect(await near.get('a')).toBe(1);
    expect(await near.get('missing')).toBeNull();
    expect(await near.get('missing')).toBeNull();
    expect(near.nearCacheStats()!.hits).toBe(1);
    await other.set('missing', 'here');
    expect(await near.get('missing')).toBe('here');
    await other.invalidate('t');
    expect(await near.get('a')).toBeNull();
    expect(await near.get('b')).toBe(2);
    const { flushes } = near.nearCacheStats()!;
    await other.clear();
    expect(near.nearCacheStats()!.flushes).toBe(flushes + 1);
    expect(await near.get('b')).toBeNull();
  });

  it('reads its own writes, clear and invalidate included', async () => {
    const { near } = pair();
    await near.set('k', 1, { tags: ['t'] });
    expect(await near.get('k')).toBe(1);
    await near.incr('n');
    expect(await near.get('n')).toBe(1);
    await near.incr('n');
    expect(await near.get('n')).toBe(2);
    await near.invalidate('t');
    expect(await near.get('k')).toBeNull();
    await near.batch([{ op: 'set', key: 'k', value: 'batched' }]);
    expect(await near.get('k')).toBe('batched');
  });

  it('hands out copies: changing a returned object never changes what is held', async () => {
    const { near, other } = pair();
    await other.set('obj', { list: [1] });
    const first = await near.get<{ list: number[] }>('obj');
    first!.list.push(2);
    expect(await near.get('obj')).toEqual({ list: [1] });
    const second = await near.get<{ list: number[] }>('obj');
    second!.list.push(3);
    expect(await near.get('obj')).toEqual({ list: [1] });
  });

  it('an entry never outlives its server TTL, nor nearCache.ttl', async () => {
    const { near, other } = pair({ ttl: 0.15 });
    await other.set('short', 'x', { ttl: 0.1 });
    await other.set('long', 'y');
    expect(await near.get('short')).toBe('x');
    expect(await near.get('long')).toBe('y');
    const entry = await near.getEntry('short');
    expect(entry!.ttl).toBeGreaterThan(0);
    expect(entry!.ttl).toBeLessThanOrEqual(0.1);
    await waitFor(async () => (await near.get('short')) === null, { timeoutMs: 2000 });
    // `long` has no server TTL; the local copy is dropped after 0.15 s and read again.
    const misses = near.nearCacheStats()!.misses;
    await waitFor(async () => (await near.get('long'), near.nearCacheStats()!.misses > misses), { timeoutMs: 2000 });
    expect(await near.get('long')).toBe('y');
  });

  it('holds at most maxEntries, least recently used out first; prefixes limit what is held', async () => {
    const { near, other } = pair({ maxEntries: 2, prefixes: ['keep:'] });
    for (const key of ['keep:1', 'keep:2', 'keep:3', 'skip:1']) await other.set(key, key);
    for (const key of ['keep:1', 'keep:2', 'keep:3', 'skip:1']) expect(await near.get(key)).toBe(key);
    expect(near.nearCacheStats()).toMatchObject({ entries: 2, misses: 3 });
    expect(await near.get('keep:3')).toBe('keep:3');
    expect(await near.get('skip:1')).toBe('skip:1');
    expect(near.nearCacheStats()!.hits).toBe(1);
  });

  it('a get with touch always goes to the cache and slides the TTL', async () => {
    const { near, other } = pair();
    await other.set('s', 'v', { ttl: 10 });
    await near.get('s');
    const { hits } = near.nearCacheStats()!;
    expect(await near.getEntry('s', { touch: 100 })).toMatchObject({ value: 'v' });
    expect(near.nearCacheStats()!.hits).toBe(hits);
    expect((await other.getEntry('s'))!.ttl).toBeGreaterThan(10);
  });
});
