import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../test/helpers/redis-process';
import { runCli, startServer, type ServerProcess } from '../../../test/helpers/server-process';

// Issue 14, item 2: set a 1 MB value, then POST /cache/batch with 1000 gets of it (a 25 KB request). The
// response used to be built in full (RSS 2.1 GB, /health stalled, then a 500 "Invalid string length").
// Now reads past LIX_MAX_RESPONSE_BYTES answer response_too_large per command, counted before any body is built.

const MiB = 1024 * 1024;
const BUDGET = 8 * MiB;
/** A string whose JSON is exactly 1 MiB, the default value limit. */
const BIG = 'x'.repeat(MiB - 2);

/** Resident memory of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

async function post(server: ServerProcess, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

interface BatchResult {
  op: string;
  key?: string;
  value?: unknown;
  error?: { code: string; message: string };
}

function describeStore(name: string, store: () => string | undefined): void {
  describe(`a bounded response (${name})`, () => {
    let server: ServerProcess;
    beforeAll(async () => {
      const url = store();
      server = await startServer({ args: url ? ['--store', url] : [], env: { LIX_MAX_RESPONSE_BYTES: String(BUDGET), LOG_LEVEL: 'warn' } });
      expect((await post(server, '/cache/set', { key: 'big', value: BIG })).status).toBe(200);
    });
    afterAll(async () => {
      expect(await server.stop()).toBe(0);
    });

    it('1000 gets of a 1 MB value: the ones that fit, response_too_large for the rest, /health answers, RSS stays bounded', async () => {
      const operations = [...Array.from({ length: 999 }, () => ({ op: 'get', key: 'big' })), { op: 'set', key: 'after', value: 'written' }];
      const health = (async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await fetch(`${server.url}/health`)).status);
        return statuses;
      })();
      const answers = await Promise.all([0, 1, 2].map(() => post(server, '/cache/batch', { operations })));
      expect(await health).toStrictEqual([200, 200, 200, 200, 200]);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.text.length).toBeLessThan(BUDGET + 512 * 1024);
        const { results } = JSON.parse(answer.text) as { results: BatchResult[] };
        expect(results).toHaveLength(1000);
        const found = results.filter((result) => result.value === BIG).length;
        expect(found).toBe(7);
        const refused = results.filter((result) => result.error?.code === 'response_too_large');
        expect(refused).toHaveLength(999 - 7);
        expect(refused[0]).toMatchObject({ op: 'get', key: 'big' });
        expect(refused[0]!.error!.message).toMatch(/8388608 bytes.*fewer keys per batch.*LIX_MAX_RESPONSE_BYTES/);
        // The write in the same batch ran.
        expect(results[999]).toMatchObject({ op: 'set', key: 'after', success: true });
      }
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect(rssBytes(server.process.pid!)).toBeLessThan(512 * MiB);
      // One value alone always fits.
      const one = await fetch(`${server.url}/cache/get?key=big`);
      expect(one.status).toBe(200);
      expect(((await one.json()) as { value: string }).value).toBe(BIG);
    });

    it('a scan page of large values ends early with a cursor; a Part 1 scan (no limit, no cursor) that cannot fit gets 413', async () => {
      const operations = Array.from({ length: 12 }, (_, i) => ({ op: 'set', key: `scan:${String(i).padStart(2, '0')}`, value: BIG }));
      // Two batches: 12 MiB in one would pass the 8 MiB body limit.
      for (const half of [operations.slice(0, 6), operations.slice(6)]) expect((await post(server, '/cache/batch', { operations: half })).status).toBe(200);
      const keys: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const response = await fetch(`${server.url}/cache/scan?prefix=scan:&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(response.status).toBe(200);
        const page = (await response.json()) as { items: { key: string }[]; count: number; cursor: string | null };
        expect(page.count).toBeGreaterThan(0);
        expect(page.count).toBeLessThanOrEqual(7);
        keys.push(...page.items.map((item) => item.key));
        cursor = page.cursor;
        if (cursor === null) break;
      }
      expect(keys.sort()).toStrictEqual(operations.map((operation) => operation.key));
      const old = await fetch(`${server.url}/cache/scan?prefix=scan:`);
      expect(old.status).toBe(413);
      const body = (await old.json()) as { code: string; error: string };
      expect(body.code).toBe('response_too_large');
      expect(body.error).toMatch(/LIX_MAX_RESPONSE_BYTES/);
      // Keys alone fit.
      const keysOnly = (await (await fetch(`${server.url}/cache/scan?prefix=scan:&keys_only=true`)).json()) as { count: number };
      expect(keysOnly.count).toBe(12);
    });
  });
}

describeStore('memory store', () => undefined);

let redis: RedisProcess | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
describeStore('Redis store', () => redis!.url);

describe('the response limit setting', () => {
  it('refuses a limit too small for one value, naming the setting and the minimum', async () => {
    const [byEnv, byFlag] = await Promise.all([runCli([], { LIX_MAX_RESPONSE_BYTES: '100kb' }), runCli(['--max-response-bytes', '2mb', '--max-value-bytes', '4mb'])]);
    expect(byEnv.code).not.toBe(0);
    expect(byEnv.stderr).toMatch(/LIX_MAX_RESPONSE_BYTES.*102400 bytes.*at least 1050624/);
    expect(byFlag.code).not.toBe(0);
    expect(byFlag.stderr).toMatch(/--max-response-bytes.*at least 4196352/);
  });
});
