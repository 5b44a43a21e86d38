import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LixCache } from 'lix-cache-sdk';
import { startRedis, type RedisProcess } from '../helpers/redis-process';
import { startServer, type ServerProcess } from '../helpers/server-process';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

/**
 * Near caches under concurrent writes, across real processes: writer processes increment
 * random keys (so a key's value only grows), reader processes read them through their
 * near caches. Checked: no reader ever sees a key go back to a value older than one it
 * already saw; once the writers stop, every reader converges to the final values and
 * serves them from its near cache (a copy that missed its invalidation would stay stale
 * forever, as tracking sends each change once). Behind one Lix server, with and without a
 * proxy that cuts every connection (event channels included) every 150 ms; behind two Lix
 * servers on one Redis; and with the SDK talking to Redis itself.
 */
const KEYS = 40;
const RUN_MS = 3000;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Report {
  type: 'report';
  reads: number;
  errors: number;
  violationCount: number;
  violations: unknown[];
  stale: string[];
  wrong: number;
  finalHits: number;
  stats: { hits: number; misses: number; invalidations: number; flushes: number; live: boolean };
}

function start(script: string, args: string[]): Promise<ChildProcess> {
  const child = fork(fixture(script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
}

function ask<T>(child: ChildProcess, message: object, answer: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (reply: { type: string }) => {
      if (reply.type !== answer) return;
      child.off('message', listener);
      resolve(reply as T);
    };
    child.on('message', listener);
    child.send(message);
  });
}

interface Stack {
  server: ServerProcess;
  proxy: TcpProxy;
  /** Two Lix servers on one Redis. */
  onRedis: ServerProcess[];
  /** The Redis URL the SDK uses directly. */
  store: string;
}

/** Where readers and writers connect; readers go through the cutting proxy when `cut`. */
const SETUPS: { name: string; readers(stack: Stack): string; writers(stack: Stack): string; cut?: boolean }[] = [
  { name: 'one Lix server', readers: (s) => s.server.url, writers: (s) => s.server.url },
  { name: 'one Lix server, every connection cut every 150 ms', readers: (s) => s.proxy.url, writers: (s) => s.server.url, cut: true },
  { name: 'two Lix servers on one Redis (readers on one, writers on the other)', readers: (s) => s.onRedis[1]!.url, writers: (s) => s.onRedis[0]!.url },
  { name: 'the SDK straight to Redis (redis://)', readers: (s) => s.store, writers: (s) => s.store },
];

describe('near caches stay coherent under concurrent writers (real processes)', () => {
  let stack: Stack;
  let redis: RedisProcess;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const [server, started] = await Promise.all([startServer(), startRedis()]);
    redis = started;
    const store = `${redis.url}?keyPrefix=coherence:`;
    const onRedis = await Promise.all([startServer({ env: { LIX_STORE: store } }), startServer({ env: { LIX_STORE: store } })]);
    stack = { server, proxy: await startTcpProxy({ port: server.port }), onRedis, store };
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await stack.proxy.close();
    expect(await stack.server.stop()).toBe(0);
    await Promise.all(stack.onRedis.map((each) => each.stop()));
    await redis.stop();
  });

  it.each(SETUPS)('$name: no reader ever reads back in time; all converge and serve the final values from memory', { timeout: 60_000 }, async (setup) => {
    const { proxy } = stack;
    const plain = new LixCache({ url: setup.writers(stack) });
    await plain.clear();
    const readers = await Promise.all([0, 1, 2].map(() => start('reader.mjs', [setup.readers(stack), String(KEYS)])));
    const writers = await Promise.all(['near', 'plain', 'near'].map((kind) => start('writer.mjs', [setup.writers(stack), String(KEYS), kind])));
    children.push(...readers, ...writers);

    const cutter = setup.cut ? setInterval(() => proxy.cutAll(), 150) : undefined;
    const cutsBefore = proxy.cuts;
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    clearInterval(cutter);
    const written = await Promise.all(writers.map((writer) => ask<{ writes: number }>(writer, { type: 'stop' }, 'report')));
    await Promise.all(readers.map((reader) => ask(reader, { type: 'stop' }, 'stopped')));

    const expected: Record<string, number> = {};
    for (let i = 0; i < KEYS; i++) expected[`co:${i}`] = (await plain.get<number>(`co:${i}`)) ?? 0;
    await plain.close();
    const reports = await Promise.all(readers.map((reader) => ask<Report>(reader, { type: 'verify', expected }, 'report')));

    expect(written.reduce((sum, { writes }) => sum + writes, 0), setup.name).toBeGreaterThan(100);
    for (const report of reports) {
      expect(report.violations, 'a reader saw a value older than one it had seen').toEqual([]);
      expect(report.stale, 'keys that never converged to their final value').toEqual([]);
      expect(report.wrong).toBe(0);
      expect(report.finalHits, 'the final values come from the near cache').toBe(KEYS);
      expect(report.reads).toBeGreaterThan(200);
      expect(report.stats.hits).toBeGreaterThan(0);
      expect(report.stats.invalidations).toBeGreaterThan(0);
      if (setup.cut) expect(report.stats.flushes, 'each cut channel flushes its near cache').toBeGreaterThan(0);
    }
    if (setup.cut) expect(proxy.cuts - cutsBefore).toBeGreaterThan(10);
  });
});
