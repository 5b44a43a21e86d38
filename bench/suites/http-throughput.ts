import { startRedis } from '../../test/helpers/redis-process';
import { startServer } from '../../test/helpers/server-process';
import { load } from '../lib/autocannon';
import { startTarget } from '../lib/processes';
import { redisBenchmark } from '../lib/redis-benchmark';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave, ratio } from '../lib/stats';

const VALUE = { userId: 'user-1', username: 'alice' };
const BATCH_SIZE = 100;

/**
 * Server throughput, keep-alive, 50 connections, load from a separate
 * autocannon process: Lix GET / SET / 100-command batch beside a bare
 * node:http server (the ceiling of any Node HTTP server here) and beside
 * redis-server measured by redis-benchmark.
 */
export async function httpThroughput(settings: BenchSettings): Promise<Section> {
  const lix = await startServer();
  const ceiling = await startTarget('node-http-baseline.ts');
  const redis = await startRedis();
  try {
    await fetch(`${lix.url}/cache/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'bench:get', value: VALUE }) });
    const batchBody = JSON.stringify({ operations: Array.from({ length: BATCH_SIZE }, () => ({ op: 'get', key: 'bench:get' })) });
    const redisRequests = Math.round(120_000 * settings.seconds);
    const { seconds } = settings;
    const systems = [
      { name: 'node:http constant JSON (ceiling)', measure: () => load({ url: ceiling.url, seconds }) },
      { name: 'Lix GET /cache/get', measure: () => load({ url: `${lix.url}/cache/get?key=bench:get`, seconds }) },
      {
        name: 'Lix POST /cache/set',
        measure: () => load({ url: `${lix.url}/cache/set`, method: 'POST', body: JSON.stringify({ key: 'bench:set', value: VALUE }), seconds }),
      },
      { name: `Lix POST /cache/batch (${BATCH_SIZE} gets)`, measure: () => load({ url: `${lix.url}/cache/batch`, method: 'POST', body: batchBody, seconds }) },
      { name: 'redis-server GET (redis-benchmark)', measure: () => redisBenchmark(redis.port, 'get', redisRequests) },
      { name: 'redis-server SET (redis-benchmark)', measure: () => redisBenchmark(redis.port, 'set', redisRequests) },
    ];
    const results = await interleave(systems, settings.rounds);
    const ceilingRps = results.get(systems[0]!.name)!.rps;
    const singleGetRps = results.get(systems[1]!.name)!.rps;
    const rows = systems.map(({ name }) => {
      const r = results.get(name)!;
      const commands = name.includes('batch') ? r.rps * BATCH_SIZE : r.rps;
      return [name, formatNumber(r.rps), formatNumber(commands), formatNumber(r.p50, 1), formatNumber(r.p99, 1), ratio(r.rps, ceilingRps), r.errors ? String(r.errors) : '0'];
    });
    const batchCommands = results.get(systems[3]!.name)!.rps * BATCH_SIZE;
    return {
      title: 'Server throughput (keep-alive, 50 connections)',
      header: ['system', 'requests/s', 'commands/s', 'p50 ms', 'p99 ms', 'req/s vs node:http', 'errors'],
      rows,
      notes: [
        `Lix GET reaches ${ratio(singleGetRps, ceilingRps)} of the node:http ceiling (target ≥ 0.70×).`,
        `A ${BATCH_SIZE}-command batch moves ${ratio(batchCommands, singleGetRps)} the commands/s of single GETs (target ≥ 10×).`,
      ],
    };
  } finally {
    await Promise.all([lix.stop(), ceiling.stop(), redis.stop()]);
  }
}
