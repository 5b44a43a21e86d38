import { LixCache } from 'lix-cache-sdk';
import { startRedis } from '../../test/helpers/redis-process';
import { startServer } from '../../test/helpers/server-process';
import { redisBenchmark } from '../lib/redis-benchmark';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave, ratio } from '../lib/stats';

const GETS = 10_000;

/** Requests the server has answered, from its /metrics latency histogram. */
async function requestsServed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('lix_http_request_duration_seconds_count')) total += Number(line.split(' ').pop());
  return total;
}

/** Issue 10,000 gets in one tick, again and again for `seconds`. */
async function burst(cache: LixCache, keys: string[], seconds: number, countRequests?: () => Promise<number>) {
  const before = countRequests ? await countRequests() : 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let rounds = 0;
  while (performance.now() < deadline) {
    await Promise.all(keys.map((key) => cache.get(key)));
    rounds++;
  }
  const elapsed = (performance.now() - start) / 1000;
  // The /metrics request itself is counted once more; take it off.
  const requests = countRequests ? (await countRequests()) - before - 1 : Number.NaN;
  return { rps: (rounds * GETS) / elapsed, requestsPerBurst: requests / rounds };
}

/**
 * Automatic batching: 10,000 concurrent `get`s issued in one tick through the
 * SDK become a handful of batch requests. Against Redis with 100 commands
 * pipelined per round trip (redis-benchmark -P 100), the best Redis does.
 */
export async function batching(settings: BenchSettings): Promise<Section> {
  const lix = await startServer();
  const redis = await startRedis();
  const overHttp = new LixCache({ url: lix.url });
  const overRedis = new LixCache({ url: `${redis.url}?keyPrefix=lixbench:` });
  try {
    const keys = Array.from({ length: GETS }, (_, i) => `bench:batch:${i}`);
    await Promise.all(keys.map((key, i) => Promise.all([overHttp.set(key, { i }), overRedis.set(key, { i })])));
    const systems = [
      { name: 'Lix SDK → Lix server (http://), 10,000 gets per tick', measure: () => burst(overHttp, keys, settings.seconds, () => requestsServed(lix.url)) },
      { name: 'Lix SDK → Redis (redis://, in-process RedisEngine), 10,000 gets per tick', measure: () => burst(overRedis, keys, settings.seconds) },
      {
        name: 'redis-server GET, 100 pipelined (redis-benchmark -P 100)',
        measure: async () => ({ ...(await redisBenchmark(redis.port, 'get', Math.round(600_000 * settings.seconds), 100)), requestsPerBurst: Number.NaN }),
      },
    ];
    const results = await interleave(systems, settings.rounds);
    const pipelined = results.get(systems[2]!.name)!.rps;
    return {
      title: 'Batching: 10,000 concurrent gets in one tick',
      header: ['system', 'commands/s', 'requests per 10,000 gets', 'vs Redis pipelined'],
      rows: systems.map(({ name }) => {
        const r = results.get(name)!;
        return [name, formatNumber(r.rps), Number.isNaN(r.requestsPerBurst) ? '—' : formatNumber(r.requestsPerBurst, 1), ratio(r.rps, pipelined)];
      }),
      notes: ['Requests are counted by the server (its /metrics), not inferred.', 'Target: batched commands/s ≥ 0.5× Redis pipelined.'],
    };
  } finally {
    await Promise.all([overHttp.close(), overRedis.close()]);
    await Promise.all([lix.stop(), redis.stop()]);
  }
}
