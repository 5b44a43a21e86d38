import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../../test/helpers/wait-for';
import type { Command, ErrorResult, GetResult, Json, Result, ScanResult } from '../src/commands/commands';
import { isErrorResult } from '../src/commands/commands';
import type { ChangeListener, Engine, EngineStats, Watch } from '../src/commands/engine';
import type { Limits } from '../src/commands/limits';
import { watching as watchingEngine, type Heard } from './change-recorder';

/**
 * The one suite every engine must pass, Keyv-style: what one engine does,
 * the others do, to the letter. It talks to the engine only through
 * execute/stats/health/close. Each test works under its own key prefix and
 * compares counters as deltas, so an engine shared with other tests still
 * passes; `beforeEach` clears, so counts of `clear` are exact. It never
 * asserts what engines may legitimately differ on: scan order, memory bytes,
 * and whether `watch` reports synchronously (memory) or soon after (Redis):
 * its reports are awaited with bounded polls.
 */
/** Opens the engine under test; `limits` overrides its size limits (a second engine on the same store). */
export type OpenEngine = (options?: { limits?: Partial<Limits> }) => Promise<Engine>;

export function describeEngineConformance(name: string, open: OpenEngine): void {
  describe(`engine conformance: ${name}`, () => {
    let engine: Engine;
    let counter = 0;
    /** A key prefix no other test uses. */
    const fresh = (): string => `conf${++counter}:`;

    const run = (...commands: Command[]): Promise<Result[]> => engine.execute(commands);
    const one = async (command: Command): Promise<Result> => (await run(command))[0]!;
    const get = async (key: string, touch?: number): Promise<GetResult> => {
      const result = await one(touch === undefined ? { op: 'get', key } : { op: 'get', key, touch });
      if (isErrorResult(result)) throw new Error(`get ${key} failed: ${result.error.message}`);
      return result as GetResult;
    };
    const scan = async (command: Omit<Extract<Command, { op: 'scan' }>, 'op'>): Promise<ScanResult> => {
      const result = await one({ op: 'scan', ...command });
      if (isErrorResult(result)) throw new Error(`scan failed: ${result.error.message}`);
      return result as ScanResult;
    };
    /** Every key a scan yields, page by page; checks each page's shape and that no key comes twice. */
    const scanAll = async (command: Omit<Extract<Command, { op: 'scan' }>, 'op' | 'cursor'>): Promise<{ keys: string[]; pages: ScanResult[] }> => {
      const keys: string[] = [];
      const pages: ScanResult[] = [];
      let cursor: string | null = null;
      do {
        const page = await scan(cursor === null ? command : { ...command, cursor });
        pages.push(page);
        const pageKeys = command.keysOnly ? page.keys! : page.items!.map((item) => item.key);
        expect(page.count).toBe(pageKeys.length);
        if (command.limit !== undefined) expect(page.count).toBeLessThanOrEqual(command.limit);
        // A page with more to come is full.
        if (page.cursor !== null) expect(page.count).toBe(command.limit ?? 100);
        keys.push(...pageKeys);
        cursor = page.cursor;
        expect(pages.length).toBeLessThan(10_000);
      } while (cursor !== null);
      expect(new Set(keys).size).toBe(keys.length);
      return { keys, pages };
    };
    const stats = (): Promise<EngineStats> => engine.stats();
    const expectError = (result: Result | undefined, code: string, key?: string): ErrorResult => {
      expect(result).toBeDefined();
      expect(isErrorResult(result!)).toBe(true);
      const error = result as ErrorResult;
      expect(error.error.code).toBe(code);
      expect(typeof error.error.message).toBe('string');
      expect(error.error.message.length).toBeGreaterThan(10);
      if (key !== undefined) expect(error.key).toBe(key);
      return error;
    };

    beforeAll(async () => {
      engine = await open();
    });
    afterAll(async () => {
      await engine?.close();
    });
    beforeEach(async () => {
      await run({ op: 'clear' });
    });

    describe('get and set', () => {
      it('a missing key reads as null, not found, no ttl', async () => {
        const key = `${fresh()}missing`;
        expect(await one({ op: 'get', key })).toStrictEqual({ op: 'get', key, value: null, ttl: null, found: false });
      });

      it('set answers written, and get returns the value without ttl', async () => {
        const key = `${fresh()}a`;
        expect(await one({ op: 'set', key, value: { name: 'Ada' } })).toStrictEqual({ op: 'set', key, success: true, written: true });
        expect(await one({ op: 'get', key })).toStrictEqual({ op: 'get', key, value: { name: 'Ada' }, ttl: null, found: true });
      });

      it('stores every JSON type exactly, unicode included', async () => {
        const p = fresh();
        const values: Json[] = [
          null,
          true,
          false,
          0,
          -17,
          3.25,
          1e21,
          '',
          'plain',
          'ünïcødé 日本語 🎉 "quotes" \\ back\nslash',
          [],
          [1, 'two', null, [3], { four: 4 }],
          {},
          { nested: { deep: { list: [true, { x: 'y' }] } }, emoji: '👩‍💻', n: -0.5 },
        ];
        await run(...values.map((value, i): Command => ({ op: 'set', key: `${p}${i}`, value })));
        const results = await run(...values.map((_, i): Command => ({ op: 'get', key: `${p}${i}` })));
        results.forEach((result, i) => expect(result).toStrictEqual({ op: 'get', key: `${p}${i}`, value: values[i], ttl: null, found: true }));
      });

      it('a stored null is found, unlike a missing key', async () => {
        const key = `${fresh()}null`;
        await one({ op: 'set', key, value: null });
        expect(await get(key)).toStrictEqual({ op: 'get', key, value: null, ttl: null, found: true });
        expect(await one({ op: 'exists', key })).toStrictEqual({ op: 'exists', key, exists: true });
      });

      it('keys may hold any unicode', async () => {
        const p = fresh();
        const keys = [`${p}ключ`, `${p}日本:42`, `${p}🎉`, `${p}a b/c?d=e&f`, `${p}é`, `${p}e\u0301`];
        await run(...keys.map((key, i): Command => ({ op: 'set', key, value: i })));
        for (const [i, key] of keys.entries()) expect((await get(key)).value).toBe(i);
        const { keys: scanned } = await scanAll({ prefix: p, keysOnly: true, limit: 2 });
        expect(scanned.sort()).toStrictEqual([...keys].sort());
      });

      it('changing a returned value never changes the cache', async () => {
        const key = `${fresh()}obj`;
        await one({ op: 'set', key, value: { list: [1, 2], inner: { a: 1 } } });
        const first = (await get(key)).value as { list: number[]; inner: { a: number } };
        first.list.push(3);
        first.inner.a = 99;
        expect((await get(key)).value).toStrictEqual({ list: [1, 2], inner: { a: 1 } });
      });

      it('set replaces the value and, without ttl, removes an earlier ttl', async () => {
        const key = `${fresh()}k`;
        await one({ op: 'set', key, value: 1, ttl: 100 });
        await one({ op: 'set', key, value: 2 });
        expect(await get(key)).toMatchObject({ value: 2, ttl: null });
      });

      it('a value over the size limit is refused and the old value stays', async () => {
        const key = `${fresh()}big`;
        await one({ op: 'set', key, value: 'small' });
        expectError(await one({ op: 'set', key, value: 'x'.repeat(1024 * 1024 + 1) }), 'value_too_large', key);
        expect((await get(key)).value).toBe('small');
      });
    });

    describe('ttl', () => {
      it('reports remaining seconds and the key disappears once they pass', async () => {
        const key = `${fresh()}short`;
        await one({ op: 'set', key, value: 'v', ttl: 0.2 });
        const read = await get(key);
        expect(read.value).toBe('v');
        expect(read.ttl).toBeGreaterThan(0);
        expect(read.ttl).toBeLessThanOrEqual(0.2);
        await waitFor(async () => (await get(key)).found === false, { what: 'the key to expire' });
        expect(await get(key)).toStrictEqual({ op: 'get', key, value: null, ttl: null, found: false });
        expect(await one({ op: 'exists', key })).toStrictEqual({ op: 'exists', key, exists: false });
      });

      it('reports fractional seconds at millisecond precision', async () => {
        const key = `${fresh()}long`;
        await one({ op: 'set', key, value: 'v', ttl: 100.5 });
        const { ttl } = await get(key);
        expect(ttl).toBeGreaterThan(99);
        expect(ttl).toBeLessThanOrEqual(100.5);
        expect(Math.round(ttl! * 1000)).toBeCloseTo(ttl! * 1000, 6);
      });

      it('ttl 0 means no expiry', async () => {
        const key = `${fresh()}zero`;
        await one({ op: 'set', key, value: 'v', ttl: 0 });
        expect(await get(key)).toMatchObject({ value: 'v', ttl: null, found: true });
      });

      it('get with touch resets the ttl in the same step', async () => {
        const p = fresh();
        await run({ op: 'set', key: `${p}control`, value: 1, ttl: 0.2 }, { op: 'set', key: `${p}slid`, value: 2, ttl: 0.2 });
        const touched = await get(`${p}slid`, 60);
        expect(touched.value).toBe(2);
        expect(touched.ttl).toBeGreaterThan(59);
        expect(touched.ttl).toBeLessThanOrEqual(60);
        await waitFor(async () => (await get(`${p}control`)).found === false, { what: 'the control key to expire' });
        expect(await get(`${p}slid`)).toMatchObject({ value: 2, found: true });
      });

      it('touch 0 removes the ttl; touch on a missing key creates nothing', async () => {
        const key = `${fresh()}t`;
        await one({ op: 'set', key, value: 'v', ttl: 50 });
        expect(await get(key, 0)).toMatchObject({ value: 'v', ttl: null });
        expect(await get(key)).toMatchObject({ ttl: null, found: true });
        const missing = `${key}:missing`;
        expect(await get(missing, 10)).toStrictEqual({ op: 'get', key: missing, value: null, ttl: null, found: false });
        expect(await one({ op: 'exists', key: missing })).toMatchObject({ exists: false });
      });
    });

    describe('get withTags', () => {
      it("answers the key's tags, [] for none; a plain get carries none", async () => {
        const p = fresh();
        await run({ op: 'set', key: `${p}a`, value: 1, tags: [`${p}t1`, `${p}t2`] }, { op: 'set', key: `${p}b`, value: 2 });
        const tagged = (await one({ op: 'get', key: `${p}a`, withTags: true })) as GetResult;
        expect(tagged).toMatchObject({ value: 1, found: true });
        expect([...tagged.tags!].sort()).toStrictEqual([`${p}t1`, `${p}t2`]);
        expect(await one({ op: 'get', key: `${p}b`, withTags: true })).toStrictEqual({ op: 'get', key: `${p}b`, value: 2, ttl: null, found: true, tags: [] });
        expect(await get(`${p}a`)).not.toHaveProperty('tags');
        expect(await one({ op: 'get', key: `${p}missing`, withTags: true })).toStrictEqual({ op: 'get', key: `${p}missing`, value: null, ttl: null, found: false });
      });

      it('with touch, slides the ttl and the key stays in its tag', async () => {
        const p = fresh();
        await one({ op: 'set', key: `${p}a`, value: 1, ttl: 30, tags: [`${p}t`] });
        const touched = (await one({ op: 'get', key: `${p}a`, touch: 60, withTags: true })) as GetResult;
        expect(touched.tags).toStrictEqual([`${p}t`]);
        expect(touched.ttl).toBeGreaterThan(59);
        expect((await scan({ tag: `${p}t`, keysOnly: true })).keys).toStrictEqual([`${p}a`]);
      });
    });

    describe('conditional set', () => {
      it('nx writes only when absent', async () => {
        const key = `${fresh()}nx`;
        expect(await one({ op: 'set', key, value: 1, nx: true })).toStrictEqual({ op: 'set', key, success: true, written: true });
        expect(await one({ op: 'set', key, value: 2, nx: true })).toStrictEqual({ op: 'set', key, success: true, written: false });
        expect((await get(key)).value).toBe(1);
      });

      it('xx writes only when present', async () => {
        const key = `${fresh()}xx`;
        expect(await one({ op: 'set', key, value: 1, xx: true })).toStrictEqual({ op: 'set', key, success: true, written: false });
        expect((await get(key)).found).toBe(false);
        await one({ op: 'set', key, value: 1 });
        expect(await one({ op: 'set', key, value: 2, xx: true })).toStrictEqual({ op: 'set', key, success: true, written: true });
        expect((await get(key)).value).toBe(2);
      });

      it('an expired key counts as absent', async () => {
        const key = `${fresh()}exp`;
        await one({ op: 'set', key, value: 'old', ttl: 0.2 });
        await waitFor(async () => (await get(key)).found === false, { what: 'the key to expire' });
        expect(await one({ op: 'set', key, value: 'x', xx: true })).toMatchObject({ written: false });
        expect(await one({ op: 'set', key, value: 'new', nx: true })).toMatchObject({ written: true });
        expect(await get(key)).toMatchObject({ value: 'new', ttl: null });
      });
    });

    describe('merge', () => {
      it('shallow-merges into an existing object', async () => {
        const key = `${fresh()}m`;
        await one({ op: 'set', key, value: { a: 1, nested: { x: 1, y: 2 }, keep: 'yes' } });
        expect(await one({ op: 'merge', key, value: { a: 2, nested: { x: 9 }, added: [1] } })).toStrictEqual({ op: 'merge', key, success: true });
        expect((await get(key)).value).toStrictEqual({ a: 2, nested: { x: 9 }, keep: 'yes', added: [1] });
      });

      it('does nothing to an absent key, so a deleted key is never brought back', async () => {
        const key = `${fresh()}gone`;
        expect(await one({ op: 'merge', key, value: { a: 1 } })).toStrictEqual({ op: 'merge', key, success: false });
        expect((await get(key)).found).toBe(false);
        await one({ op: 'set', key, value: { user: 1 } });
        const [deleted, merged] = await Promise.all([engine.execute([{ op: 'delete', key }]), engine.execute([{ op: 'merge', key, value: { late: true } }])]);
        expect(deleted[0]).toMatchObject({ deleted: true });
        expect(merged[0]).toStrictEqual({ op: 'merge', key, success: false });
        expect((await get(key)).found).toBe(false);
      });

      it('parallel merges of different fields both keep their change', async () => {
        const key = `${fresh()}par`;
        await one({ op: 'set', key, value: { a: 0, b: 0, c: 'same' } });
        const fields = Array.from({ length: 20 }, (_, i) => `f${i}`);
        await Promise.all(fields.map((field, i) => engine.execute([{ op: 'merge', key, value: { [field]: i } }])));
        await Promise.all([engine.execute([{ op: 'merge', key, value: { a: 1 } }]), engine.execute([{ op: 'merge', key, value: { b: 2 } }])]);
        const value = (await get(key)).value as Record<string, Json>;
        expect(value).toMatchObject({ a: 1, b: 2, c: 'same' });
        fields.forEach((field, i) => expect(value[field]).toBe(i));
      });

      it('keeps the ttl and tags unless a ttl is given', async () => {
        const p = fresh();
        const key = `${p}s`;
        await one({ op: 'set', key, value: { a: 1 }, ttl: 100, tags: [`${p}tag`] });
        await one({ op: 'merge', key, value: { b: 2 } });
        const kept = await get(key);
        expect(kept.ttl).toBeGreaterThan(99);
        expect((await scan({ tag: `${p}tag`, keysOnly: true })).keys).toStrictEqual([key]);
        await one({ op: 'merge', key, value: { c: 3 }, ttl: 500 });
        expect((await get(key)).ttl).toBeGreaterThan(400);
        await one({ op: 'merge', key, value: { d: 4 }, ttl: 0 });
        expect(await get(key)).toMatchObject({ value: { a: 1, b: 2, c: 3, d: 4 }, ttl: null });
      });

      it('refuses a stored value that is not an object, leaving it unchanged', async () => {
        const p = fresh();
        const stored: Json[] = [[1, 2], 'text', 5, null, true];
        for (const [i, value] of stored.entries()) {
          const key = `${p}${i}`;
          await one({ op: 'set', key, value });
          expectError(await one({ op: 'merge', key, value: { a: 1 } }), 'not_object', key);
          expect((await get(key)).value).toStrictEqual(value);
        }
      });
    });

    describe('incr and decr', () => {
      it('an absent key starts at 0', async () => {
        const p = fresh();
        expect(await one({ op: 'incr', key: `${p}up` })).toStrictEqual({ op: 'incr', key: `${p}up`, value: 1 });
        expect(await one({ op: 'incr', key: `${p}up`, amount: 5 })).toStrictEqual({ op: 'incr', key: `${p}up`, value: 6 });
        expect(await one({ op: 'decr', key: `${p}up`, amount: 10 })).toStrictEqual({ op: 'decr', key: `${p}up`, value: -4 });
        expect(await one({ op: 'decr', key: `${p}down` })).toStrictEqual({ op: 'decr', key: `${p}down`, value: -1 });
        expect((await get(`${p}up`)).value).toBe(-4);
      });

      it('adds fractions and counts on numbers written by set', async () => {
        const key = `${fresh()}n`;
        await one({ op: 'set', key, value: 10 });
        expect(await one({ op: 'incr', key, amount: 0.5 })).toMatchObject({ value: 10.5 });
        expect(await one({ op: 'decr', key, amount: 0.25 })).toMatchObject({ value: 10.25 });
      });

      it('applies ttl only when it creates the key', async () => {
        const p = fresh();
        await one({ op: 'incr', key: `${p}new`, ttl: 100 });
        expect((await get(`${p}new`)).ttl).toBeGreaterThan(99);
        await one({ op: 'incr', key: `${p}new`, ttl: 5 });
        expect((await get(`${p}new`)).ttl).toBeGreaterThan(99);
        await one({ op: 'set', key: `${p}old`, value: 1 });
        await one({ op: 'incr', key: `${p}old`, ttl: 5 });
        expect(await get(`${p}old`)).toMatchObject({ value: 2, ttl: null });
      });

      it('keeps the ttl of an existing counter', async () => {
        const key = `${fresh()}c`;
        await one({ op: 'set', key, value: 1, ttl: 100 });
        await one({ op: 'incr', key });
        expect((await get(key)).ttl).toBeGreaterThan(99);
      });

      it('a counter created with a ttl expires, and then starts again at 0', async () => {
        const key = `${fresh()}rate`;
        await run({ op: 'incr', key, ttl: 0.2 }, { op: 'incr', key });
        expect((await get(key)).value).toBe(2);
        await waitFor(async () => (await get(key)).found === false, { what: 'the counter to expire' });
        expect(await one({ op: 'incr', key })).toMatchObject({ value: 1 });
      });

      it('a non-numeric value is a non_numeric error and stays unchanged', async () => {
        const p = fresh();
        const stored: Json[] = ['abc', '5', { n: 1 }, [1], true, null];
        for (const [i, value] of stored.entries()) {
          const key = `${p}${i}`;
          await one({ op: 'set', key, value });
          const error = expectError(await one({ op: i % 2 ? 'decr' : 'incr', key }), 'non_numeric', key);
          expect(error.op).toBe(i % 2 ? 'decr' : 'incr');
          expect(error.error.message).toContain('non_numeric');
          expect((await get(key)).value).toStrictEqual(value);
        }
      });
    });

    describe('expire, delete, exists', () => {
      it('expire is false for an absent key and does not create it', async () => {
        const key = `${fresh()}none`;
        expect(await one({ op: 'expire', key, ttl: 10 })).toStrictEqual({ op: 'expire', key, success: false });
        expect((await get(key)).found).toBe(false);
      });

      it('expire sets, resets and (with 0) removes the ttl', async () => {
        const key = `${fresh()}e`;
        await one({ op: 'set', key, value: 'v' });
        expect(await one({ op: 'expire', key, ttl: 100 })).toStrictEqual({ op: 'expire', key, success: true });
        expect((await get(key)).ttl).toBeGreaterThan(99);
        await one({ op: 'expire', key, ttl: 0 });
        expect(await get(key)).toMatchObject({ value: 'v', ttl: null });
        await one({ op: 'expire', key, ttl: 0.2 });
        await waitFor(async () => (await get(key)).found === false, { what: 'the key to expire' });
        expect(await one({ op: 'expire', key, ttl: 10 })).toMatchObject({ success: false });
      });

      it('delete says whether a live key was there', async () => {
        const key = `${fresh()}d`;
        await one({ op: 'set', key, value: 1 });
        expect(await one({ op: 'delete', key })).toStrictEqual({ op: 'delete', key, success: true, deleted: true });
        expect(await one({ op: 'delete', key })).toStrictEqual({ op: 'delete', key, success: true, deleted: false });
        expect(await one({ op: 'exists', key })).toStrictEqual({ op: 'exists', key, exists: false });
      });
    });

    describe('tags', () => {
      it('scan by tag lists the tagged keys; invalidate deletes them', async () => {
        const p = fresh();
        const user = `${p}user:1`;
        await run(
          { op: 'set', key: `${p}s1`, value: 1, tags: [user] },
          { op: 'set', key: `${p}s2`, value: 2, tags: [user, `${p}admin`] },
          { op: 'set', key: `${p}s3`, value: 3, tags: [`${p}user:2`] },
          { op: 'set', key: `${p}s4`, value: 4 },
        );
        const tagged = await scan({ tag: user });
        expect(tagged.items!.map((item) => item.key).sort()).toStrictEqual([`${p}s1`, `${p}s2`]);
        expect(tagged.items!.find((item) => item.key === `${p}s2`)).toStrictEqual({ key: `${p}s2`, value: 2, ttl: null });
        expect(await one({ op: 'invalidate', tag: user })).toStrictEqual({ op: 'invalidate', tag: user, deleted: 2 });
        expect((await get(`${p}s1`)).found).toBe(false);
        expect((await get(`${p}s2`)).found).toBe(false);
        expect((await get(`${p}s3`)).found).toBe(true);
        expect((await get(`${p}s4`)).found).toBe(true);
        expect((await scan({ tag: `${p}admin`, keysOnly: true })).keys).toStrictEqual([]);
        expect(await one({ op: 'invalidate', tag: user })).toStrictEqual({ op: 'invalidate', tag: user, deleted: 0 });
      });

      it('set with tags replaces the earlier tags; set without tags removes them', async () => {
        const p = fresh();
        const key = `${p}k`;
        await one({ op: 'set', key, value: 1, tags: [`${p}a`, `${p}b`] });
        await one({ op: 'set', key, value: 2, tags: [`${p}b`, `${p}c`] });
        expect((await scan({ tag: `${p}a`, keysOnly: true })).keys).toStrictEqual([]);
        expect((await scan({ tag: `${p}b`, keysOnly: true })).keys).toStrictEqual([key]);
        expect((await scan({ tag: `${p}c`, keysOnly: true })).keys).toStrictEqual([key]);
        await one({ op: 'set', key, value: 3 });
        expect((await scan({ tag: `${p}b`, keysOnly: true })).keys).toStrictEqual([]);
        expect((await scan({ tag: `${p}c`, keysOnly: true })).keys).toStrictEqual([]);
        expect(await one({ op: 'invalidate', tag: `${p}b` })).toMatchObject({ deleted: 0 });
        expect((await get(key)).value).toBe(3);
      });

      it('deleted and expired keys leave their tags', async () => {
        const p = fresh();
        const tag = `${p}t`;
        await run(
          { op: 'set', key: `${p}del`, value: 1, tags: [tag] },
          { op: 'set', key: `${p}exp`, value: 2, tags: [tag], ttl: 0.2 },
          { op: 'set', key: `${p}live`, value: 3, tags: [tag] },
        );
        await one({ op: 'delete', key: `${p}del` });
        expect((await scan({ tag, keysOnly: true })).keys!.sort()).toStrictEqual([`${p}exp`, `${p}live`]);
        await waitFor(async () => (await scan({ tag, keysOnly: true })).keys!.length === 1, { what: 'the expired key to leave its tag' });
        expect((await scan({ tag, keysOnly: true })).keys).toStrictEqual([`${p}live`]);
        expect(await one({ op: 'invalidate', tag })).toMatchObject({ deleted: 1 });
      });

      it('an invalidated key can be set again, with or without the tag', async () => {
        const p = fresh();
        const tag = `${p}t`;
        await one({ op: 'set', key: `${p}k`, value: 1, tags: [tag] });
        await one({ op: 'invalidate', tag });
        await one({ op: 'set', key: `${p}k`, value: 2, tags: [tag] });
        expect((await scan({ tag, keysOnly: true })).keys).toStrictEqual([`${p}k`]);
        expect((await get(`${p}k`)).value).toBe(2);
      });

      it('incr keeps the tags of an existing key', async () => {
        const p = fresh();
        await one({ op: 'set', key: `${p}n`, value: 1, tags: [`${p}t`] });
        await one({ op: 'incr', key: `${p}n` });
        expect((await scan({ tag: `${p}t`, keysOnly: true })).keys).toStrictEqual([`${p}n`]);
      });
    });

    describe('scan', () => {
      it('lists keys by prefix with values and ttl, and only that prefix', async () => {
        const p = fresh();
        await run(
          { op: 'set', key: `${p}user:1`, value: { n: 1 } },
          { op: 'set', key: `${p}user:2`, value: 'two', ttl: 100 },
          { op: 'set', key: `${p}users`, value: 'not me' },
          { op: 'set', key: `${p}post:1`, value: 1 },
        );
        const page = await scan({ prefix: `${p}user:` });
        expect(page.op).toBe('scan');
        expect(page.cursor).toBeNull();
        expect(page.count).toBe(2);
        expect(page.keys).toBeUndefined();
        const items = [...page.items!].sort((a, b) => (a.key < b.key ? -1 : 1));
        expect(items[0]).toStrictEqual({ key: `${p}user:1`, value: { n: 1 }, ttl: null });
        expect(items[1]!.key).toBe(`${p}user:2`);
        expect(items[1]!.value).toBe('two');
        expect(items[1]!.ttl).toBeGreaterThan(99);
      });

      it('keysOnly returns keys and no items', async () => {
        const p = fresh();
        await run({ op: 'set', key: `${p}a`, value: 1 }, { op: 'set', key: `${p}b`, value: 2 });
        const page = await scan({ prefix: p, keysOnly: true });
        expect(page).toStrictEqual({ op: 'scan', keys: expect.any(Array), count: 2, cursor: null });
        expect(page.keys!.sort()).toStrictEqual([`${p}a`, `${p}b`]);
      });

      it('pages with cursor and limit yield every key exactly once', async () => {
        const p = fresh();
        const keys = Array.from({ length: 23 }, (_, i) => `${p}k${i}`);
        await run(...keys.map((key, i): Command => ({ op: 'set', key, value: i })));
        await run({ op: 'set', key: `${fresh()}other`, value: 0 });
        for (const keysOnly of [true, false]) {
          const { keys: scanned, pages } = await scanAll({ prefix: p, limit: 5, keysOnly });
          expect(scanned.sort()).toStrictEqual([...keys].sort());
          expect(pages.length).toBeGreaterThanOrEqual(5);
          expect(pages[0]!.count).toBe(5);
        }
        const whole = await scan({ prefix: p, limit: 23 });
        expect(whole.count).toBe(23);
        expect(whole.cursor).toBeNull();
      });

      it('a page holds 100 keys by default', async () => {
        const p = fresh();
        await run(...Array.from({ length: 130 }, (_, i): Command => ({ op: 'set', key: `${p}${i}`, value: i })));
        const first = await scan({ prefix: p, keysOnly: true });
        expect(first.count).toBe(100);
        expect(first.cursor).not.toBeNull();
        const second = await scan({ prefix: p, keysOnly: true, cursor: first.cursor });
        expect(second.count).toBe(30);
        expect(second.cursor).toBeNull();
        expect(new Set([...first.keys!, ...second.keys!]).size).toBe(130);
      });

      it('pages through a tag, and a tag with a prefix', async () => {
        const p = fresh();
        const tag = `${p}tag`;
        await run(
          ...Array.from({ length: 12 }, (_, i): Command => ({ op: 'set', key: `${p}${i % 2 ? 'odd' : 'even'}:${i}`, value: i, tags: [tag] })),
          { op: 'set', key: `${p}even:untagged`, value: 0 },
        );
        const all = await scanAll({ tag, limit: 5, keysOnly: true });
        expect(all.keys).toHaveLength(12);
        const even = await scanAll({ tag, prefix: `${p}even:`, limit: 2 });
        expect(even.keys.sort()).toStrictEqual([0, 2, 4, 6, 8, 10].map((i) => `${p}even:${i}`).sort());
        expect((await scan({ tag: `${p}no-such-tag` })).count).toBe(0);
      });

      it('skips expired keys', async () => {
        const p = fresh();
        await run({ op: 'set', key: `${p}short`, value: 1, ttl: 0.2 }, { op: 'set', key: `${p}long`, value: 2 });
        await waitFor(async () => (await scan({ prefix: p, keysOnly: true })).count === 1, { what: 'the expired key to leave scans' });
        expect((await scan({ prefix: p, keysOnly: true })).keys).toStrictEqual([`${p}long`]);
      });

      it('an empty prefix match is an empty, finished page', async () => {
        expect(await scan({ prefix: `${fresh()}nothing`, keysOnly: true })).toStrictEqual({ op: 'scan', keys: [], count: 0, cursor: null });
        expect(await scan({ prefix: `${fresh()}nothing` })).toStrictEqual({ op: 'scan', items: [], count: 0, cursor: null });
      });

      it('a cursor the cache did not make is an invalid_scan error', async () => {
        const result = await one({ op: 'scan', prefix: fresh(), cursor: '%%not a cursor%%' });
        const error = expectError(result, 'invalid_scan');
        expect(error.op).toBe('scan');
        expect(error.error.message).toMatch(/cursor/);
      });
    });

    describe('clear', () => {
      it('deletes everything and says how many', async () => {
        const p = fresh();
        await run(
          { op: 'set', key: `${p}a`, value: 1, tags: [`${p}t`] },
          { op: 'set', key: `${p}b`, value: 2, ttl: 100 },
          { op: 'incr', key: `${p}c` },
        );
        expect(await one({ op: 'clear' })).toStrictEqual({ op: 'clear', success: true, cleared: 3 });
        expect((await get(`${p}a`)).found).toBe(false);
        expect((await scan({ tag: `${p}t`, keysOnly: true })).count).toBe(0);
        expect((await stats()).size).toBe(0);
        expect(await one({ op: 'clear' })).toStrictEqual({ op: 'clear', success: true, cleared: 0 });
      });
    });

    describe('watch', () => {
      const watches: Watch[] = [];
      afterEach(() => {
        for (const watch of watches.splice(0)) watch.close();
      });
      /** A recording listener, registered and live (Redis sets its feed up asynchronously: waited for, bounded). */
      const watching = () => watchingEngine(engine, watches);
      /** Wait until every key is reported, then forget them, so that a later report of one is a new report. */
      const reported = async (heard: Heard, ...keys: string[]): Promise<void> => {
        await waitFor(() => keys.every((key) => heard.keys.has(key)), { what: `changed(${keys.join(', ')})` });
        for (const key of keys) heard.keys.delete(key);
      };

      it('reports set, merge, incr, a ttl change (expire, touch, ttl removed) and delete', async () => {
        const p = fresh();
        const { heard } = await watching();
        await one({ op: 'set', key: `${p}a`, value: { x: 1 } });
        await reported(heard, `${p}a`);
        await one({ op: 'merge', key: `${p}a`, value: { y: 2 } });
        await reported(heard, `${p}a`);
        await one({ op: 'incr', key: `${p}n`, amount: 2 });
        await reported(heard, `${p}n`);
        await one({ op: 'expire', key: `${p}a`, ttl: 100 });
        await reported(heard, `${p}a`);
        await get(`${p}a`, 200);
        await reported(heard, `${p}a`);
        await one({ op: 'expire', key: `${p}a`, ttl: 0 });
        await reported(heard, `${p}a`);
        await one({ op: 'delete', key: `${p}a` });
        await reported(heard, `${p}a`);
      });

      it('reports every key a tag invalidation deletes', async () => {
        const p = fresh();
        const { heard } = await watching();
        await run({ op: 'set', key: `${p}a`, value: 1, tags: [`${p}t`] }, { op: 'set', key: `${p}b`, value: 2, tags: [`${p}t`, `${p}u`] });
        await reported(heard, `${p}a`, `${p}b`);
        expect(await one({ op: 'invalidate', tag: `${p}t` })).toMatchObject({ deleted: 2 });
        await reported(heard, `${p}a`, `${p}b`);
      });

      it('reports a key that expires', async () => {
        const p = fresh();
        const { heard } = await watching();
        await one({ op: 'set', key: `${p}short`, value: 1, ttl: 0.05 });
        await reported(heard, `${p}short`);
        // Nobody reads it: the engine's own expiry must find it.
        await reported(heard, `${p}short`);
      });

      it('reports clear as changedAll() or as a change of every key', async () => {
        const p = fresh();
        const { heard } = await watching();
        await run({ op: 'set', key: `${p}a`, value: 1, tags: [`${p}t`] }, { op: 'set', key: `${p}b`, value: 2, ttl: 100 });
        await reported(heard, `${p}a`, `${p}b`);
        await one({ op: 'clear' });
        await waitFor(() => heard.all > 0 || (heard.keys.has(`${p}a`) && heard.keys.has(`${p}b`)), { what: 'clear to be reported' });
      });

      it('a closed watch hears nothing more, while the others still do', async () => {
        const p = fresh();
        const first = await watching();
        const second = await watching();
        first.watch.close();
        first.watch.close(); // twice is harmless
        await one({ op: 'set', key: `${p}a`, value: 1 });
        await reported(second.heard, `${p}a`);
        expect(first.heard.keys.has(`${p}a`)).toBe(false);
        expect(first.heard.live).not.toContain(false);
      });

      it('a listener that throws neither fails the write nor keeps the others from hearing it', async () => {
        const p = fresh();
        const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
        try {
          const thrower = engine.watch({
            changed: () => {
              throw new Error('listener bug');
            },
            changedAll: () => undefined,
            live: () => undefined,
          });
          watches.push(thrower);
          const { heard } = await watching();
          expect(await one({ op: 'set', key: `${p}a`, value: 1 })).toMatchObject({ success: true });
          await reported(heard, `${p}a`);
          await waitFor(() => warn.mock.calls.some(([message]) => String(message).includes('listener bug')), { what: 'the warning' });
        } finally {
          warn.mockRestore();
        }
      });

      it('rejects a listener without the three methods', () => {
        expect(() => engine.watch({ changed: () => undefined } as unknown as ChangeListener)).toThrow(/changed\(key\), changedAll\(\) and live\(up\)/);
      });
    });

    describe('stats and health', () => {
      it('counts hits, misses, operations and size', async () => {
        const p = fresh();
        const before = await stats();
        expect(before).toMatchObject({
          engine: expect.any(String),
          size: expect.any(Number),
          limit: expect.any(Number),
          memory: expect.any(Number),
          maxMemory: expect.any(Number),
          hits: expect.any(Number),
          misses: expect.any(Number),
          evictions: expect.any(Number),
          expirations: expect.any(Number),
          operations: expect.any(Number),
        });
        await run(
          { op: 'set', key: `${p}a`, value: 1 },
          { op: 'set', key: `${p}b`, value: 2 },
          { op: 'get', key: `${p}a` },
          { op: 'get', key: `${p}b` },
          { op: 'get', key: `${p}missing` },
          { op: 'exists', key: `${p}a` },
        );
        const after = await stats();
        expect(after.hits - before.hits).toBe(2);
        expect(after.misses - before.misses).toBe(1);
        expect(after.operations - before.operations).toBeGreaterThanOrEqual(6);
        expect(after.size).toBe(before.size + 2);
        await one({ op: 'delete', key: `${p}a` });
        expect((await stats()).size).toBe(before.size + 1);
      });

      it('counts expirations', async () => {
        const p = fresh();
        const before = await stats();
        await run({ op: 'set', key: `${p}a`, value: 1, ttl: 0.2 }, { op: 'set', key: `${p}b`, value: 2, ttl: 0.2 });
        await waitFor(async () => (await stats()).expirations - before.expirations >= 2, { what: 'two expirations to be counted' });
        expect((await get(`${p}a`)).found).toBe(false);
      });

      it('is healthy', async () => {
        expect(await engine.health()).toMatchObject({ ok: true });
      });
    });

    describe('batch', () => {
      it('runs in order; a bad command gets its own error and the others still run', async () => {
        const p = fresh();
        const results = await run(
          { op: 'set', key: `${p}text`, value: 'abc' },
          { op: 'incr', key: `${p}text` },
          { op: 'set', key: `${p}after`, value: 1 },
          { op: 'merge', key: `${p}after`, value: { a: 1 } },
          { op: 'incr', key: `${p}after` },
          { op: 'get', key: `${p}after` },
          { op: 'scan', prefix: p, cursor: '!bad!' },
          { op: 'delete', key: `${p}text` },
        );
        expect(results).toHaveLength(8);
        expect(results[0]).toStrictEqual({ op: 'set', key: `${p}text`, success: true, written: true });
        expect(results[1]).toStrictEqual({ op: 'incr', key: `${p}text`, error: { code: 'non_numeric', message: expect.stringContaining('non_numeric') } });
        expect(results[2]).toStrictEqual({ op: 'set', key: `${p}after`, success: true, written: true });
        expect(results[3]).toStrictEqual({ op: 'merge', key: `${p}after`, error: { code: 'not_object', message: expect.any(String) } });
        expect(results[4]).toStrictEqual({ op: 'incr', key: `${p}after`, value: 2 });
        expect(results[5]).toStrictEqual({ op: 'get', key: `${p}after`, value: 2, ttl: null, found: true });
        expect(results[6]).toStrictEqual({ op: 'scan', error: { code: 'invalid_scan', message: expect.any(String) } });
        expect(results[7]).toStrictEqual({ op: 'delete', key: `${p}text`, success: true, deleted: true });
      });

      it('an empty batch has no results', async () => {
        expect(await engine.execute([])).toStrictEqual([]);
      });
    });

    describe('response budget (maxResponseBytes)', () => {
      // A second engine (on the same store, for Redis) with a small budget: 50,000 bytes, 10,000-byte values; these tests use only it.
      let small: Engine;
      const limits = { maxValueBytes: 10_000, maxResponseBytes: 50_000 };
      // 9,000 characters of JSON: with key and per-result overhead, five fit in 50,000 and a sixth does not.
      const big = 'x'.repeat(8_998);
      beforeAll(async () => {
        small = await open({ limits });
      });
      afterAll(async () => {
        await small?.close();
      });

      it('a batch of large gets answers the ones that fit and response_too_large for the rest; writes still run', async () => {
        const p = fresh();
        await small.execute([{ op: 'set', key: `${p}big`, value: big }]);
        const gets: Command[] = Array.from({ length: 20 }, () => ({ op: 'get', key: `${p}big` }));
        const results = await small.execute([...gets.slice(0, 10), { op: 'set', key: `${p}w1`, value: 1 }, ...gets.slice(10), { op: 'incr', key: `${p}w2` }]);
        expect(results).toHaveLength(22);
        const reads = [...results.slice(0, 10), ...results.slice(11, 21)];
        expect(reads.slice(0, 5).map((result) => (result as GetResult).value)).toStrictEqual(Array(5).fill(big));
        for (const result of reads.slice(5)) {
          const error = expectError(result, 'response_too_large', `${p}big`);
          expect(error.op).toBe('get');
          expect(error.error.message).toMatch(/50000 bytes.*fewer keys per batch.*LIX_MAX_RESPONSE_BYTES/);
        }
        expect(results[10]).toMatchObject({ op: 'set', success: true, written: true });
        expect(results[21]).toMatchObject({ op: 'incr', value: 1 });
        expect((await small.execute([{ op: 'get', key: `${p}w1` }]))[0]).toMatchObject({ value: 1, found: true });
        // Sent again in smaller batches, the refused reads are answered.
        expect((await small.execute(gets.slice(0, 5))).every((result) => (result as GetResult).value === big)).toBe(true);
        // Small values and missing keys in the same batch still fit.
        const mixed = await small.execute([{ op: 'get', key: `${p}w1` }, { op: 'get', key: `${p}nothing` }, ...gets.slice(0, 5)]);
        expect(mixed.every((result) => !isErrorResult(result))).toBe(true);
      });

      it('values are stored as they were when execute was called, also in a batch of many gets', async () => {
        const p = fresh();
        const value = { n: 1, list: [1] };
        const patch = { m: 1 };
        const gets: Command[] = Array.from({ length: 10 }, () => ({ op: 'get', key: `${p}x` }));
        const pending = small.execute([...gets, { op: 'set', key: `${p}v`, value }, { op: 'merge', key: `${p}v`, value: patch }]);
        value.n = 2;
        value.list.push(2);
        patch.m = 2;
        await pending;
        expect((await small.execute([{ op: 'get', key: `${p}v` }]))[0]).toMatchObject({ value: { n: 1, list: [1], m: 1 } });
      });

      it('a scan page ends early with a cursor once the budget is spent, and the cursor continues it', async () => {
        const p = fresh();
        await small.execute(Array.from({ length: 12 }, (_, i): Command => ({ op: 'set', key: `${p}${String(i).padStart(2, '0')}`, value: big, tags: [`${p}tag`] })));
        for (const by of [{ prefix: p }, { tag: `${p}tag` }]) {
          const first = (await small.execute([{ op: 'scan', ...by, limit: 100 }]))[0] as ScanResult;
          expect(isErrorResult(first)).toBe(false);
          expect(first.count).toBe(5);
          expect(first.cursor).not.toBeNull();
          const keys = first.items!.map((item) => item.key);
          let cursor: string | null = first.cursor;
          for (let pages = 0; cursor !== null && pages < 10; pages++) {
            const next = (await small.execute([{ op: 'scan', ...by, limit: 100, cursor }]))[0] as ScanResult;
            expect(next.count).toBeGreaterThan(0);
            expect(next.count).toBeLessThanOrEqual(5);
            keys.push(...next.items!.map((item) => item.key));
            cursor = next.cursor;
          }
          expect(keys.sort()).toStrictEqual(Array.from({ length: 12 }, (_, i) => `${p}${String(i).padStart(2, '0')}`));
          // Keys alone are small: one page holds them all.
          const keysOnly = (await small.execute([{ op: 'scan', ...by, keysOnly: true }]))[0] as ScanResult;
          expect(keysOnly).toMatchObject({ count: 12, cursor: null });
        }
      });

      it('a scan whose first item no longer fits the batch budget answers response_too_large', async () => {
        const p = fresh();
        await small.execute([{ op: 'set', key: `${p}big`, value: big }, { op: 'set', key: `${p}s:1`, value: big }]);
        const gets: Command[] = Array.from({ length: 5 }, () => ({ op: 'get', key: `${p}big` }));
        const results = await small.execute([...gets, { op: 'scan', prefix: `${p}s:` }]);
        expect(results.slice(0, 5).every((result) => !isErrorResult(result))).toBe(true);
        expectError(results[5], 'response_too_large');
        expect(results[5]!.op).toBe('scan');
      });
    });
  });
}
