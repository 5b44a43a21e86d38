import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Command } from 'lix-cache-core';
import { MemoryEngine } from 'lix-cache-core/memory';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { Bench } from 'tinybench';
import { waitFor } from '../../test/helpers/wait-for';
import type { BenchSettings, Section } from '../lib/report';
import { createSessions } from '../lib/sessions';
import { formatNumber, ratio } from '../lib/stats';

async function fill(engine: MemoryEngine, count: number, build: (i: number) => Command): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const commands: Command[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) commands.push(build(i));
    await engine.execute(commands);
  }
}

/** A MemoryEngine holding `size` keys, 100 of which start with "match:". */
async function engineWith(size: number): Promise<MemoryEngine> {
  const engine = new MemoryEngine({ limit: size + 1000 });
  await fill(engine, size - 100, (i) => ({ op: 'set', key: `item:${i}`, value: { i } }));
  await fill(engine, 100, (i) => ({ op: 'set', key: `match:${i}`, value: { i } }));
  return engine;
}

/**
 * How costs grow with the cache, in process: a prefix scan of 100 matches
 * among 10,000 vs 1,000,000 keys; SessionStore.metrics() over 100,000
 * sessions; and an active TTL sweep reclaiming 1,000,000 keys at once.
 */
export async function scale(settings: BenchSettings): Promise<Section> {
  const rows: string[][] = [];

  const small = await engineWith(10_000);
  const large = await engineWith(1_000_000);
  const scan: Command[] = [{ op: 'scan', prefix: 'match:', limit: 100 }];
  const bench = new Bench({ time: settings.quick ? 300 : 1500, warmupTime: 100 });
  bench.add('scan 100 of 10,000', () => small.execute(scan));
  bench.add('scan 100 of 1,000,000', () => large.execute(scan));
  await bench.run();
  const [smallTask, largeTask] = bench.tasks.map((task) => task.result as unknown as { latency: { p50: number } });
  rows.push(['scan({ prefix }) → 100 matches among 10,000 keys', `${formatNumber(smallTask!.latency.p50 * 1000, 1)} µs`, 'baseline']);
  rows.push(['scan({ prefix }) → 100 matches among 1,000,000 keys', `${formatNumber(largeTask!.latency.p50 * 1000, 1)} µs`, `${ratio(largeTask!.latency.p50, smallTask!.latency.p50)} the 10,000-key scan`]);
  await Promise.all([small.close(), large.close()]);

  const cache = new LixCache({ url: 'memory://bench-metrics' });
  const store = new SessionStore({ cache, ttl: 3600 });
  await createSessions(store, 100_000);
  const started = performance.now();
  const metrics = await store.metrics();
  rows.push(['SessionStore.metrics() over 100,000 sessions (memory://)', `${formatNumber(performance.now() - started)} ms`, `${formatNumber(metrics.totalSessions)} sessions, ${formatNumber(metrics.uniqueUsers)} users counted`]);
  await cache.close();

  const engine = new MemoryEngine({ limit: 1_100_000 });
  const ttl = 2;
  const expiresAt = Date.now() + ttl * 1000;
  await fill(engine, 1_000_000, (i) => ({ op: 'set', key: `expiring:${i}`, value: { i }, ttl }));
  const delay = monitorEventLoopDelay({ resolution: 5 });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now())));
  delay.enable();
  await waitFor(async () => (await engine.stats()).size === 0, { timeoutMs: 60_000, intervalMs: 10, what: 'the sweep to reclaim 1,000,000 keys' });
  delay.disable();
  const reclaimMs = Date.now() - expiresAt;
  const { expirations } = await engine.stats();
  rows.push([
    'TTL sweep: 1,000,000 keys expiring at once',
    `${formatNumber(reclaimMs)} ms to reclaim all`,
    `${formatNumber(expirations)} expirations; longest event-loop stall ${formatNumber(delay.max / 1e6, 1)} ms`,
  ]);
  await engine.close();

  return {
    title: 'Scale (in process)',
    header: ['operation', 'cost', 'notes'],
    rows,
    notes: ['Scan cost follows the matches, not the cache size: the 1,000,000-key scan should cost about what the 10,000-key one does.'],
  };
}
