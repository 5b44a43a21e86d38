import { afterEach, describe, expect, it } from 'vitest';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from '../src/index';
import { waitFor } from '../../../test/helpers/wait-for';

// Sessions on a near cache, over memory:// (its change feed is synchronous). Two stores on
// one engine stand for two app processes; test/near-cache/ does it with real processes.

let counter = 0;
const clients: LixCache[] = [];
function apps(options: { idleTimeout?: number; absoluteTimeout?: number; touchInterval?: number } = {}) {
  const url = `memory://near-sessions-${++counter}`;
  const make = () => {
    const cache = new LixCache({ url, nearCache: true });
    clients.push(cache);
    return new SessionStore({ cache, ...options });
  };
  const raw = new LixCache({ url });
  clients.push(raw);
  return { a: make(), b: make(), raw };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((cache) => cache.close()));
});

describe('SessionStore on a near cache', () => {
  it('reads sessions in-process, and a revocation in one app is seen by the other at once', async () => {
    const { a, b } = apps();
    const id = await a.create('u1', { name: 'Ada' });
    expect(await b.get(id)).toMatchObject({ name: 'Ada', userId: 'u1' });
    for (let i = 0; i < 5; i++) expect(await b.get(id)).toMatchObject({ name: 'Ada' });
    expect(b.cache.nearCacheStats()!.hits).toBeGreaterThanOrEqual(4);
    await a.delete(id);
    expect(await b.get(id)).toBeNull();
  });

  it('log out everywhere and an update in one app reach the other', async () => {
    const { a, b } = apps();
    const one = await a.create('u2', { name: 'Bea' });
    const two = await a.create('u2', { name: 'Bea' });
    expect(await b.get(one)).not.toBeNull();
    expect(await b.get(two)).not.toBeNull();
    await a.update(one, { name: 'Cy' });
    expect(await b.get(one)).toMatchObject({ name: 'Cy' });
    await a.revokeAll('u2');
    expect(await b.get(one)).toBeNull();
    expect(await b.get(two)).toBeNull();
  });

  it('touches at most once per touchInterval per session, and the idle timeout still slides', async () => {
    const { a, raw } = apps({ idleTimeout: 2, touchInterval: 0.2 });
    const id = await a.create('u3', {});
    const key = (await raw.scan('session:', { keysOnly: true })).keys.find((k) => !k.startsWith('session:user:'))!;
    const ops = async () => (await raw.stats()).operations;
    // Used for 3.5 s (well past the 2 s idle timeout) with reads every 50 ms: it must stay alive.
    const until = Date.now() + 3500;
    let reads = 0;
    const before = await ops();
    while (Date.now() < until) {
      expect(await a.get(id)).not.toBeNull();
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Each read served locally costs no command; touches (and the re-read each one causes) are at most 2 per 0.2 s.
    const commands = (await ops()) - before - 1;
    expect(reads).toBeGreaterThan(20);
    expect(commands).toBeLessThanOrEqual(2 * Math.ceil(3500 / 200) + 4);
    // Idle, it ends (watched without reading it, which would slide it), and the local copy goes with it.
    await waitFor(async () => !(await raw.exists(key)), { timeoutMs: 5000 });
    expect(await a.get(id)).toBeNull();
  });

  it('enforces the absolute timeout on a session it holds locally', async () => {
    const { a, b } = apps({ absoluteTimeout: 0.3 });
    const id = await a.create('u4', {});
    expect(await b.get(id)).not.toBeNull();
    expect(await b.get(id)).not.toBeNull();
    await waitFor(async () => (await b.get(id)) === null, { timeoutMs: 2000 });
    expect(await a.get(id)).toBeNull();
  });

  it('refuses a touchInterval that is not shorter than the idle timeout', () => {
    expect(() => new SessionStore({ cache: 'memory://x', idleTimeout: 10, touchInterval: 10 })).toThrow(/"touchInterval" \(10\) must be shorter than the idle timeout \(10\)/);
    expect(() => new SessionStore({ cache: 'memory://x', touchInterval: -1 })).toThrow(/"touchInterval" must be a positive number of seconds/);
  });
});
