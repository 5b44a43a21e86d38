import { createHash } from 'node:crypto';
import { LixCache, LixConnectionError } from 'lix-cache-sdk';
import { SessionStore, SessionValidationError, type SessionStoreOptions } from 'lix-cache-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freePort } from '../../../test/helpers/free-port';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

// The same store tests over a real Lix server (http://) and the in-process engine (memory://).
describe.each(['http', 'memory'] as const)('SessionStore over %s://', (backend) => {
  let server: ServerProcess | undefined;
  let cache: LixCache;
  let prefixes = 0;

  beforeAll(async () => {
    if (backend === 'http') server = await startServer();
    cache = new LixCache({ url: server ? server.url : 'memory://session-store-test' });
  });

  afterAll(async () => {
    await cache?.close();
    await server?.stop();
  });

  /** A store with its own key prefixes, so tests do not see each other's sessions. */
  function store<D extends object = Record<string, unknown>>(options: SessionStoreOptions<D> = {}): SessionStore<D> {
    const n = ++prefixes;
    return new SessionStore<D>({ cache, prefix: `s${n}:`, ...options, rememberMe: { prefix: `r${n}:`, ...options.rememberMe } });
  }

  async function everything(prefix: string): Promise<string> {
    const { items } = await cache.scan({ prefix });
    return JSON.stringify(items);
  }

  describe('ids', () => {
    it('are 256 random bits in base64url, stored only as a SHA-256 key', async () => {
      const sessions = store();
      const ids = await Promise.all([1, 2, 3].map(() => sessions.create('user-1', { username: 'alice' })));
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) {
        expect(id).toMatch(TOKEN);
        expect(await cache.exists(sessions.options.prefix + sha256(id))).toBe(true);
      }
      const dump = await everything(sessions.options.prefix);
      for (const id of ids) expect(dump).not.toContain(id);
    });

    it('reads malformed or unknown ids as null', async () => {
      const sessions = store();
      expect(await sessions.get('expired-session-id')).toBeNull();
      expect(await sessions.get('A'.repeat(43))).toBeNull();
      expect(await sessions.get(42 as unknown as string)).toBeNull();
      expect(await sessions.refresh('nope')).toBe(false);
      await expect(sessions.delete('nope')).resolves.toBeUndefined();
    });
  });

  describe('create, get, refresh, delete', () => {
    it('round-trips the data with userId, createdAt, lastAccess and a CSRF token', async () => {
      const sessions = store();
      const before = Date.now();
      const id = await sessions.create('user-7', { username: 'alice', roles: ['admin'] });
      const session = await sessions.get(id);
      expect(session).toMatchObject({ userId: 'user-7', username: 'alice', roles: ['admin'] });
      expect(session!.createdAt).toBeGreaterThanOrEqual(before);
      expect(session!.lastAccess).toBeGreaterThanOrEqual(session!.createdAt);
      expect(session!.csrfToken).toMatch(TOKEN);
      expect(Object.keys(session!).some((key) => key.startsWith('_lix'))).toBe(false);
      expect(await sessions.refresh(id)).toBe(true);
      await sessions.delete(id);
      expect(await sessions.get(id)).toBeNull();
      expect(await sessions.refresh(id)).toBe(false);
    });

    it('refuses bad input with a clear error', async () => {
      const sessions = store();
      await expect(sessions.create('', {})).rejects.toThrow(/userId must be a non-empty string/);
      await expect(sessions.create('u', null as never)).rejects.toThrow(/data must be an object/);
      await expect(sessions.create('u', { userId: 'other' })).rejects.toThrow(/differs from the userId argument/);
      await expect(sessions.create('u', { csrfToken: 'x' } as never)).rejects.toThrow(/managed by the store/);
    });

    if (backend === 'http') {
      it('reads a session in one cache command (the read slides the TTL), without rewriting it', async () => {
        const sessions = store();
        const id = await sessions.create('user-1', { username: 'alice' });
        const operations = async () => ((await (await fetch(`${server!.url}/cache/stats`)).json()) as { stats: { operations: number } }).stats.operations;
        const before = await operations();
        expect(await sessions.get(id)).not.toBeNull();
        expect((await operations()) - before).toBe(1);
      });
    }
  });

  describe('timeouts', () => {
    it('slides the idle timeout on every read, then expires', async () => {
      const sessions = store({ ttl: 0.6 });
      const id = await sessions.create('user-1', {});
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        expect(await sessions.get(id)).not.toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await waitFor(async () => !(await cache.exists(sessions.options.prefix + sha256(id))), { what: 'the idle session to expire' });
      expect(await sessions.get(id)).toBeNull();
    });

    it('does not slide with idleTimeout: false, and keeps lastAccess in the value', async () => {
      const sessions = store({ ttl: 0.8, idleTimeout: false });
      const id = await sessions.create('user-1', {});
      const created = (await sessions.list('user-1'))[0]!.lastAccess;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await sessions.get(id)).not.toBeNull();
      await waitFor(async () => (await sessions.list('user-1'))[0]!.lastAccess > created, { what: 'lastAccess to be written' });
      await waitFor(async () => (await sessions.get(id)) === null, { intervalMs: 100, what: 'the fixed lifetime to end despite use' });
    });

    it('ends a session at absoluteTimeout however active it is', async () => {
      const sessions = store({ ttl: 60, absoluteTimeout: 0.5 });
      const id = await sessions.create('user-1', {});
      await waitFor(async () => (await sessions.get(id)) === null, { intervalMs: 50, what: 'the absolute timeout' });
      expect(await sessions.list('user-1')).toEqual([]);
      expect(await sessions.regenerate(id)).toBeNull();
    });
  });

  describe('schema', () => {
    const Schema = z.object({ userId: z.string(), username: z.string(), email: z.email(), createdAt: z.number(), lastAccess: z.number() });

    it('validates on write: invalid data throws and writes nothing', async () => {
      const sessions = store({ schema: Schema });
      await expect(sessions.create('user-1', { username: 'alice', email: 'not-an-email' })).rejects.toThrow(SessionValidationError);
      await expect(sessions.create('user-1', { username: 'alice', email: 'not-an-email' })).rejects.toThrow(/email/);
      expect(await sessions.list('user-1')).toEqual([]);
      const id = await sessions.create('user-1', { username: 'alice', email: 'alice@example.com' });
      const session = await sessions.get(id);
      expect(session!.email).toBe('alice@example.com');
      await expect(sessions.update(id, { email: 'bad' })).rejects.toThrow(SessionValidationError);
      expect((await sessions.get(id))!.email).toBe('alice@example.com');
    });

    it('validates on read: a stored session that no longer matches reads as null and is deleted', async () => {
      const sessions = store({ schema: Schema });
      const id = await sessions.create('user-1', { username: 'alice', email: 'alice@example.com' });
      const key = sessions.options.prefix + sha256(id);
      await cache.merge(key, { email: 'changed-behind-our-back' });
      expect(await sessions.get(id)).toBeNull();
      expect(await cache.exists(key)).toBe(false);
    });
  });

  describe('update', () => {
    it('merges only the given fields, and never revives a deleted session', async () => {
      const sessions = store();
      const id = await sessions.create('user-1', { theme: 'light', cart: [] });
      await Promise.all([sessions.update(id, { theme: 'dark' }), sessions.update(id, { cart: ['book'] })]);
      expect(await sessions.get(id)).toMatchObject({ theme: 'dark', cart: ['book'] });
      await expect(sessions.update(id, { userId: 'someone-else' })).rejects.toThrow(/managed by the store/);
      await sessions.delete(id);
      expect(await sessions.update(id, { theme: 'dark' })).toBe(false);
      expect(await cache.exists(sessions.options.prefix + sha256(id))).toBe(false);
    });
  });

  describe('per-user limits', () => {
    it('maxSessionsPerUser ends the oldest session (by creation, an order concurrent logins agree on)', async () => {
      const sessions = store({ maxSessionsPerUser: 2 });
      const a = await sessions.create('user-1', {});
      await new Promise((resolve) => setTimeout(resolve, 5));
      const b = await sessions.create('user-1', {});
      await new Promise((resolve) => setTimeout(resolve, 5));
      await sessions.get(a); // used more recently than b, and still the oldest
      const c = await sessions.create('user-1', {});
      expect(await sessions.get(a)).toBeNull();
      expect(await sessions.get(b)).not.toBeNull();
      expect(await sessions.get(c)).not.toBeNull();
      expect(await sessions.list('user-1')).toHaveLength(2);
    });

    it('a regenerate racing with logins cannot leave more than the cap', async () => {
      const sessions = store({ exclusive: true });
      const first = await sessions.create('user-1', {});
      // A second client whose writes are held until the logins are done: the regenerate reads
      // the session before the logins end it and writes the new key after their trims.
      let release!: () => void;
      let reached!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const readDone = new Promise<void>((resolve) => (reached = resolve));
      class HeldWrites extends LixCache {
        override async set<T>(key: string, value: T, options?: Parameters<LixCache['set']>[2]): Promise<boolean> {
          reached();
          await held;
          return super.set(key, value, options);
        }
      }
      const slow = new HeldWrites({ url: server ? server.url : 'memory://session-store-test' });
      const regenerating = new SessionStore({ cache: slow, prefix: sessions.options.prefix, rememberMe: { prefix: sessions.options.rememberPrefix }, exclusive: true });
      try {
        const renewing = regenerating.regenerate(first);
        await readDone; // the regenerate has read the session and is about to write the new key
        const logins = await Promise.all([1, 2, 3].map(() => sessions.create('user-1', {})));
        release();
        const renewed = await renewing;
        expect(renewed).not.toBeNull();
        const alive = (await Promise.all([first, renewed!, ...logins].map((id) => sessions.get(id)))).filter(Boolean);
        expect(alive).toHaveLength(1);
      } finally {
        await slow.close();
      }
    });

    it('exclusive ends the user’s other sessions and remember-me tokens, not other users’', async () => {
      const sessions = store({ exclusive: true });
      const first = await sessions.create('user-1', {});
      const token = await sessions.issueRememberToken('user-1', first);
      const other = await sessions.create('user-2', {});
      const second = await sessions.create('user-1', {});
      expect(await sessions.get(first)).toBeNull();
      expect(await sessions.get(second)).not.toBeNull();
      expect(await sessions.get(other)).not.toBeNull();
      expect((await sessions.useRememberToken(token)).status).toBe('invalid');
    });

    it('logins one after another keep the later one, even within one millisecond', async () => {
      const sessions = store({ exclusive: true });
      let previous = await sessions.create('user-1', {});
      // Creates on a fast transport share milliseconds; each later login must win every time.
      for (let i = 0; i < 30; i++) {
        const next = await sessions.create('user-1', {});
        expect(await sessions.get(next), `login ${i + 2}`).not.toBeNull();
        expect(await sessions.get(previous), `login ${i + 1}`).toBeNull();
        previous = next;
      }
    });
  });

  describe('binding', () => {
    it('exact IP: another address ends the session', async () => {
      const sessions = store({ binding: { ip: 'exact' } });
      const id = await sessions.create('user-1', {}, { ip: '203.0.113.5' });
      expect(await sessions.get(id, { ip: '203.0.113.5' })).not.toBeNull();
      expect(await sessions.get(id, { ip: '::ffff:203.0.113.5' })).not.toBeNull();
      expect(await sessions.get(id, { ip: '203.0.113.6' })).toBeNull();
      expect(await sessions.get(id, { ip: '203.0.113.5' })).toBeNull(); // deleted, not just refused
      await expect(sessions.get(id)).rejects.toThrow(/pass the client's address/);
      await expect(sessions.create('user-1', {})).rejects.toThrow(/pass the client's address/);
    });

    it('subnet: the same /24 (IPv4) or /64 (IPv6) is the same client', async () => {
      const sessions = store({ binding: { ip: 'subnet' } });
      const v4 = await sessions.create('user-1', {}, { ip: '10.1.2.3' });
      expect(await sessions.get(v4, { ip: '10.1.2.200' })).not.toBeNull();
      expect(await sessions.get(v4, { ip: '10.1.3.3' })).toBeNull();
      const v6 = await sessions.create('user-1', {}, { ip: '2001:db8:1:2::10' });
      expect(await sessions.get(v6, { ip: '2001:db8:1:2:ffff::1' })).not.toBeNull();
      expect(await sessions.get(v6, { ip: '2001:db8:1:3::10' })).toBeNull();
    });

    it('userAgent: another User-Agent ends the session', async () => {
      const sessions = store({ binding: { userAgent: true } });
      const id = await sessions.create('user-1', {}, { userAgent: 'Firefox' });
      expect(await sessions.get(id, { userAgent: 'Firefox' })).not.toBeNull();
      expect(await sessions.get(id, { userAgent: 'curl' })).toBeNull();
      expect(await sessions.get(id, { userAgent: 'Firefox' })).toBeNull();
    });
  });

  describe('devices', () => {
    it('lists the user’s sessions with device, last IP and access times, marking the current one', async () => {
      const sessions = store();
      const laptop = await sessions.create('user-1', {}, { ip: '198.51.100.1', device: { id: 'dev-laptop', name: 'Laptop' } });
      await new Promise((resolve) => setTimeout(resolve, 30));
      const phone = await sessions.create('user-1', {}, { ip: '198.51.100.2', userAgent: 'Phone UA' });
      await sessions.create('user-2', {});
      await new Promise((resolve) => setTimeout(resolve, 200));
      const usedFrom = Date.now();
      await sessions.get(laptop, { ip: '198.51.100.9' });
      const usedUntil = Date.now();

      const list = await sessions.list('user-1', { currentId: laptop });
      expect(list).toHaveLength(2);
      const [first, second] = list;
      expect(first).toMatchObject({ deviceId: 'dev-laptop', deviceName: 'Laptop', lastIP: '198.51.100.9', current: true });
      expect(second).toMatchObject({ deviceName: 'Phone UA', lastIP: '198.51.100.2', current: false });
      // lastAccess comes from the sliding TTL: the read above, not the creation.
      expect(first!.lastAccess).toBeGreaterThanOrEqual(usedFrom - 5);
      expect(first!.lastAccess).toBeLessThanOrEqual(usedUntil + 5);
      expect(second!.lastAccess).toBeLessThan(usedFrom);
      for (const entry of list) {
        expect(entry.handle).toMatch(TOKEN);
        expect([laptop, phone]).not.toContain(entry.handle);
        expect(await sessions.get(entry.handle)).toBeNull();
      }
    });

    it('revokes only the user’s own session by handle', async () => {
      const sessions = store();
      const mine = await sessions.create('user-1', {});
      const theirs = await sessions.create('user-2', {});
      const theirHandle = (await sessions.list('user-2'))[0]!.handle;
      expect(await sessions.revoke('user-1', theirHandle)).toBe(false);
      expect(await sessions.get(theirs)).not.toBeNull();
      expect(await sessions.revoke('user-1', 'junk')).toBe(false);
      const myHandle = (await sessions.list('user-1'))[0]!.handle;
      expect(await sessions.revoke('user-1', myHandle)).toBe(true);
      expect(await sessions.get(mine)).toBeNull();
      expect(await sessions.revoke('user-1', myHandle)).toBe(false);
    });

    it('revoking a session revokes the remember-me token that signed it in', async () => {
      const sessions = store();
      const id = await sessions.create('user-1', {});
      const token = await sessions.issueRememberToken('user-1', id);
      await sessions.revoke('user-1', (await sessions.list('user-1'))[0]!.handle);
      expect((await sessions.useRememberToken(token)).status).toBe('invalid');
    });

    it('revokeAll ends every session and token, or all but the current one', async () => {
      const sessions = store();
      const [a, b, c] = await Promise.all([sessions.create('user-1', {}), sessions.create('user-1', {}), sessions.create('user-1', {})]);
      const keptToken = await sessions.issueRememberToken('user-1', a);
      const otherToken = await sessions.issueRememberToken('user-1', b);
      const bystander = await sessions.create('user-2', {});
      expect(await sessions.revokeAll('user-1', { except: a })).toBe(2);
      expect(await sessions.get(a)).not.toBeNull();
      expect(await sessions.get(b)).toBeNull();
      expect(await sessions.get(c)).toBeNull();
      expect((await sessions.useRememberToken(otherToken)).status).toBe('invalid');
      const rotated = await sessions.useRememberToken(keptToken);
      expect(rotated.status).toBe('valid');

      expect(await sessions.revokeAll('user-1')).toBe(1);
      expect(await sessions.get(a)).toBeNull();
      expect((await sessions.useRememberToken((rotated as { token: string }).token)).status).toBe('invalid');
      expect(await sessions.get(bystander)).not.toBeNull();
    });

    it('regenerate moves the session to a new id and CSRF token, keeping data and createdAt', async () => {
      const sessions = store();
      const id = await sessions.create('user-1', { username: 'alice' });
      const before = (await sessions.get(id))!;
      const next = await sessions.regenerate(id);
      expect(next).toMatch(TOKEN);
      expect(next).not.toBe(id);
      expect(await sessions.get(id)).toBeNull();
      const after = (await sessions.get(next!))!;
      expect(after).toMatchObject({ username: 'alice', userId: 'user-1', createdAt: before.createdAt });
      expect(after.csrfToken).not.toBe(before.csrfToken);
      expect(await sessions.regenerate(id)).toBeNull();
      expect(await sessions.regenerate('junk')).toBeNull();
    });
  });

  describe('metrics', () => {
    it('counts sessions, active ones, average age and users, and holds no ids', async () => {
      const sessions = store({ activeWindow: 0.3 });
      expect(await sessions.metrics()).toEqual({ totalSessions: 0, activeSessions: 0, averageSessionLength: 0, uniqueUsers: 0 });
      await Promise.all([sessions.create('user-1', {}), sessions.create('user-1', {}), sessions.create('user-2', {})]);
      const metrics = await sessions.metrics();
      expect(metrics).toMatchObject({ totalSessions: 3, activeSessions: 3, uniqueUsers: 2 });
      expect(Object.keys(metrics).sort()).toEqual(['activeSessions', 'averageSessionLength', 'totalSessions', 'uniqueUsers']);
      const idle = await waitFor(async () => {
        const m = await sessions.metrics();
        return m.activeSessions === 0 ? m : undefined;
      }, { what: 'sessions to leave the active window' });
      expect(idle!.totalSessions).toBe(3);
      expect(idle!.averageSessionLength).toBeGreaterThan(0);
    });
  });

  describe('remember-me', () => {
    it('rotates the token on every use and stores only hashes', async () => {
      const sessions = store();
      const first = await sessions.issueRememberToken('user-1');
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      const used = await sessions.useRememberToken(first);
      expect(used).toMatchObject({ status: 'valid', userId: 'user-1' });
      const second = (used as { token: string }).token;
      expect(second).not.toBe(first);
      expect(second.split('.')[0]).toBe(first.split('.')[0]); // same series
      const { items } = await cache.scan({ prefix: sessions.options.rememberPrefix });
      const dump = JSON.stringify(items);
      for (const part of [...first.split('.'), ...second.split('.')]) expect(dump).not.toContain(part);
      expect((await sessions.useRememberToken(second)).status).toBe('valid');
    });

    it('treats a reused token as theft: every session and token of the user is revoked', async () => {
      const sessions = store();
      const session = await sessions.create('user-1', {});
      const other = await sessions.create('user-1', {});
      const token = await sessions.issueRememberToken('user-1', session);
      const spare = await sessions.issueRememberToken('user-1');
      const bystander = await sessions.create('user-2', {});
      const rotated = (await sessions.useRememberToken(token)) as { token: string };
      expect(await sessions.useRememberToken(token)).toEqual({ status: 'stolen', userId: 'user-1' });
      expect(await sessions.get(session)).toBeNull();
      expect(await sessions.get(other)).toBeNull();
      expect((await sessions.useRememberToken(rotated.token)).status).toBe('invalid');
      expect((await sessions.useRememberToken(spare)).status).toBe('invalid');
      expect(await sessions.get(bystander)).not.toBeNull();
    });

    it('lets only one of two racing uses of a token win', async () => {
      const sessions = store();
      const token = await sessions.issueRememberToken('user-1');
      const results = await Promise.all([sessions.useRememberToken(token), sessions.useRememberToken(token)]);
      expect(results.filter((result) => result.status === 'valid' && result.token)).toHaveLength(1);
    });

    it('accepts the replaced token within reuseGrace without a theft alarm', async () => {
      const sessions = store({ rememberMe: { reuseGrace: 30 } });
      const session = await sessions.create('user-1', {});
      const token = await sessions.issueRememberToken('user-1', session);
      expect((await sessions.useRememberToken(token)).status).toBe('valid');
      expect(await sessions.useRememberToken(token)).toEqual({ status: 'valid', userId: 'user-1', token: null });
      expect(await sessions.get(session)).not.toBeNull();
    });

    it('answers invalid for junk, revoked and unknown tokens', async () => {
      const sessions = store();
      expect((await sessions.useRememberToken('junk')).status).toBe('invalid');
      expect((await sessions.useRememberToken(`${'a'.repeat(43)}.${'b'.repeat(43)}`)).status).toBe('invalid');
      const token = await sessions.issueRememberToken('user-1');
      expect(await sessions.revokeRememberToken(token)).toBe(true);
      expect((await sessions.useRememberToken(token)).status).toBe('invalid');
      expect(await sessions.revokeRememberToken('junk')).toBe(false);
    });

    it('expires tokens after rememberMe.ttl', async () => {
      const sessions = store({ rememberMe: { ttl: 0.3 } });
      const token = await sessions.issueRememberToken('user-1');
      await waitFor(async () => (await cache.scan({ prefix: sessions.options.rememberPrefix })).count === 0, { what: 'the token to expire' });
      expect((await sessions.useRememberToken(token)).status).toBe('invalid');
    });
  });
});

describe('SessionStore options', () => {
  it('are checked once, with errors that say how to fix them', () => {
    const cache = 'memory://options-test';
    expect(() => new SessionStore({ cache, ttl: -1 })).toThrow(/"ttl" must be a positive number of seconds/);
    expect(() => new SessionStore({ cache, idleTimeout: 0 })).toThrow(/"idleTimeout" must be a positive number of seconds or false/);
    expect(() => new SessionStore({ cache, tll: 5 } as never)).toThrow(/unknown option "tll"/);
    expect(() => new SessionStore({ cache, binding: { ip: 'strict' as never } })).toThrow(/'off', 'exact' or 'subnet'/);
    expect(() => new SessionStore({ cache, schema: {} as never })).toThrow(/Standard Schema/);
    expect(() => new SessionStore({ cache, maxSessionsPerUser: 0 })).toThrow(/whole number ≥ 1/);
    expect(() => new SessionStore({ cache: 42 as never })).toThrow(/LixCache client or a URL/);
    const sessions = new SessionStore({ cache });
    expect(sessions.options).toMatchObject({ ttl: 3600, idleTimeout: 3600, absoluteTimeout: 86_400, prefix: 'session:', rememberTtl: 2_592_000 });
  });
});

describe('SessionStore with the cache down', () => {
  it('rejects with a connection error instead of reading as signed out', async () => {
    const port = await freePort();
    const sessions = new SessionStore({ cache: new LixCache({ url: `http://127.0.0.1:${port}`, maxRetries: 0, timeout: 1000 }) });
    await expect(sessions.get('A'.repeat(43))).rejects.toThrow(LixConnectionError);
    await expect(sessions.create('user-1', {})).rejects.toThrow(LixConnectionError);
    await sessions.close();
  });
});
