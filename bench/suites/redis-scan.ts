import type { Command } from 'lix-cache-core';
import { RedisEngine } from 'lix-cache-core/redis';
import { createClient } from 'redis';
import { startRedis } from '../../test/helpers/redis-process';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave } from '../lib/stats';

const MATCHES = 3;
const OWN = 1000;

type Client = ReturnType<typeof createClient>;
type Metrics = Record<string, number>;

/** SCAN calls Redis served and the microseconds it spent in them (INFO commandstats): its own cost, apart from the client's and the machine's noise. */
async function scanStats(client: Client): Promise<{ calls: number; usec: number }> {
  const info = await client.info('commandstats');
  const match = /cmdstat_scan:calls=(\d+),usec=(\d+)/.exec(info);
  return { calls: Number(match?.[1] ?? 0), usec: Number(match?.[2] ?? 0) };
}

/** Wall time of `work`, with the SCAN calls and Redis time it caused. */
async function measured(stats: Client, work: () => Promise<number>): Promise<Metrics> {
  const before = await scanStats(stats);
  const started = performance.now();
  const found = await work();
  const ms = performance.now() - started;
  const after = await scanStats(stats);
  const calls = after.calls - before.calls;
  const redisMs = (after.usec - before.usec) / 1000;
  return { ms, found, calls, redisMs, perCallMs: calls > 0 ? redisMs / calls : 0 };
}

/** One full SCAN MATCH walk of the database with a fixed COUNT, as a client without an index does it. */
async function rawWalk(client: Client, count: number): Promise<number> {
  let cursor = '0';
  let found = 0;
  do {
    const reply = await client.scan(cursor, { MATCH: 'lix:k:match:*', COUNT: count });
    cursor = String(reply.cursor);
    found += reply.keys.length;
  } while (cursor !== '0');
  return found;
}

async function engineScan(engine: RedisEngine): Promise<number> {
  const [page] = await engine.execute([{ op: 'scan', prefix: 'match:', keysOnly: true }]);
  return (page as { count: number }).count;
}

/** The session hot path, for reference: get with touch on a tagged key (one script call). */
async function touchGets(engine: RedisEngine, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await engine.execute([{ op: 'get', key: `sess:${i % 100}`, touch: 3600 }]);
  return ((performance.now() - started) * 1000) / n;
}

/**
 * What a prefix scan on RedisEngine costs as the database grows with keys that do not match
 * (other apps' keys, or this cache's other keys): Redis has no prefix index, so SCAN walks every
 * key of the db. 3 matching keys among 0 / 50,000 / 500,000 others; the engine as shipped
 * (SCAN COUNT 1,000, then 4,000 while matches are sparse) against fixed-COUNT walks, and
 * the same engine on a db of its own, where only its own keys are walked.
 */
export async function redisScan(settings: BenchSettings): Promise<Section> {
  const redis = await startRedis({ args: ['--enable-debug-command', 'yes'] });
  const raw = createClient({ url: redis.url });
  await raw.connect();
  const engine = new RedisEngine({ url: redis.url });
  const ownDb = new RedisEngine({ url: `${redis.url}/1` });
  const rows: string[][] = [];
  try {
    for (const target of [engine, ownDb]) {
      await target.execute(Array.from({ length: OWN }, (_, i): Command => ({ op: 'set', key: `item:${i}`, value: { i } })));
      await target.execute(Array.from({ length: MATCHES }, (_, i): Command => ({ op: 'set', key: `match:${i}`, value: { i } })));
      await target.execute(Array.from({ length: 100 }, (_, i): Command => ({ op: 'set', key: `sess:${i}`, value: { userId: i }, ttl: 3600, tags: [`user:${i}`] })));
    }
    const sizes = settings.quick ? [0, 50_000] : [0, 50_000, 500_000];
    for (const foreign of sizes) {
      // DEBUG POPULATE adds foreign:0 … foreign:<n-1>, skipping keys that exist: each size grows the last.
      if (foreign > 0) await raw.sendCommand(['DEBUG', 'POPULATE', String(foreign), 'foreign', '16']);
      const medians = await interleave<Metrics>(
        [
          { name: 'engine', measure: () => measured(raw, () => engineScan(engine)) },
          { name: 'ownDb', measure: () => measured(raw, () => engineScan(ownDb)) },
          { name: 'count1000', measure: () => measured(raw, () => rawWalk(raw, 1000)) },
          { name: 'count4000', measure: () => measured(raw, () => rawWalk(raw, 4000)) },
          { name: 'count16000', measure: () => measured(raw, () => rawWalk(raw, 16_000)) },
          { name: 'touch', measure: async () => ({ us: await touchGets(engine, settings.quick ? 200 : 1000) }) },
        ],
        settings.rounds * 3,
      );
      const label = `${formatNumber(foreign)} foreign keys`;
      const m = (name: string) => medians.get(name)! as Record<string, number> & { ms: number; found: number; calls: number; redisMs: number; perCallMs: number; us: number };
      const scanRow = (what: string, name: string) => {
        const r = m(name);
        rows.push([label, what, `${formatNumber(r.ms, 1)} ms`, `${formatNumber(r.redisMs, 1)} ms`, formatNumber(r.calls), `${formatNumber(r.perCallMs, 2)} ms`, String(r.found)]);
      };
      scanRow('RedisEngine scan({ prefix }), as shipped (COUNT 1,000, then 4,000)', 'engine');
      scanRow('SCAN MATCH walk, COUNT 1,000 (the engine before)', 'count1000');
      scanRow('SCAN MATCH walk, COUNT 4,000', 'count4000');
      scanRow('SCAN MATCH walk, COUNT 16,000', 'count16000');
      scanRow(`RedisEngine on its own db (url …/1: only its ${formatNumber(OWN + MATCHES + 200)} keys)`, 'ownDb');
      rows.push([label, 'get with touch on a tagged key (session hot path, one script call)', `${formatNumber(m('touch').us / 1000, 2)} ms`, '—', '—', '—', '—']);
    }
  } finally {
    await Promise.all([engine.close(), ownDb.close()]);
    await raw.quit();
    await redis.stop();
  }
  return {
    title: 'Redis prefix scans (RedisEngine, standalone redis-server)',
    header: ['db holds', 'what', 'wall time', 'Redis time in SCAN', 'SCAN calls', 'Redis time per call', 'matches'],
    rows,
    notes: [
      `${MATCHES} keys match the prefix, beside ${formatNumber(OWN)} other keys of the cache; "foreign" keys are other keys in the same Redis db. Medians of ${settings.rounds * 3} interleaved rounds; Redis time from INFO commandstats (its own CPU, apart from client and machine noise).`,
      'Redis has no prefix index: SCAN walks every key of the db, so a prefix scan costs Redis time in proportion to the db, not to the matches. The Redis time of a walk is about the same for any COUNT: a larger one only cuts the round trips (each a network latency away from a remote Redis) and lengthens each call, during which Redis serves no one else. The engine stops at 4,000: 4× fewer round trips than 1,000, a few ms per call.',
      'Keep the cost proportional to the cache: give Lix its own db (standalone) or its own Redis. Scans by tag use the tag sets and cost what the tag holds.',
      'An index (a sorted set of keys) was not added: every write, delete and expiry would have to keep it, and in a Cluster it cannot sit in every key\'s slot.',
    ],
  };
}
