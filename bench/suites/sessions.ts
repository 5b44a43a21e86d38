import os from 'node:os';
import { startRedis } from '../../test/helpers/redis-process';
import { startServer } from '../../test/helpers/server-process';
import { load } from '../lib/autocannon';
import { hitRate, lixOperations, nearStats } from '../lib/lix-metrics';
import { cpuMs, startTarget, type Target } from '../lib/processes';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave, ratio } from '../lib/stats';

/** Log in once and return the Cookie header that proves it. */
async function loginCookie(target: Target): Promise<string> {
  const response = await fetch(`${target.url}/login`, { method: 'POST' });
  if (!response.ok) throw new Error(`login failed on ${target.url}: ${response.status} ${await response.text()}`);
  const cookie = response.headers.getSetCookie().map((c) => c.split(';', 1)[0]).join('; ');
  const check = await fetch(`${target.url}/api/profile`, { headers: { cookie } });
  if (check.status !== 200) throw new Error(`the session cookie did not authenticate on ${target.url}: ${check.status}`);
  return cookie;
}

/**
 * An authenticated GET /api/profile in one Express app, with lix-cache-session
 * (on a Lix server with and without the SDK's near cache, and on Redis through
 * the SDK's redis:// engine) beside
 * express-session (MemoryStore, and connect-redis on the same Redis), and
 * beside the same route with no sessions at all.
 */
export async function sessions(settings: BenchSettings): Promise<Section> {
  const lix = await startServer();
  const redis = await startRedis();
  const NEAR = 'lix-cache-session → Lix server, near cache';
  const apps: { name: string; env: Record<string, string> }[] = [
    { name: 'no sessions (Express ceiling)', env: { MODE: 'none' } },
    { name: 'lix-cache-session → Lix server (memory engine)', env: { MODE: 'lix', LIX_CACHE_URL: lix.url } },
    { name: NEAR, env: { MODE: 'lix', LIX_CACHE_URL: lix.url, NEAR_CACHE: 'true' } },
    { name: 'lix-cache-session → Redis (redis:// engine)', env: { MODE: 'lix', LIX_CACHE_URL: `${redis.url}?keyPrefix=lixbench:` } },
    { name: 'express-session + MemoryStore', env: { MODE: 'express-session-memory' } },
    { name: 'express-session + connect-redis', env: { MODE: 'express-session-redis', REDIS_URL: redis.url } },
  ];
  const targets: Target[] = [];
  // Operations the Lix server ran during each Lix row's rounds (its /metrics before and after): is a request still a round trip?
  const lixOps = new Map<string, { operations: number; requests: number }>();
  let nearApp: Target | undefined;
  try {
    const systems = [];
    for (const app of apps) {
      const target = await startTarget('session-app.ts', app.env);
      targets.push(target);
      if (app.name === NEAR) nearApp = target;
      const cookie = app.env.MODE === 'none' ? '' : await loginCookie(target);
      // The app's own CPU per request: with every stack on two shared cores, what a request costs the app bounds its rate.
      const measure = async () => {
        const cpuBefore = await cpuMs(target.pid);
        const result = await load({ url: `${target.url}/api/profile`, headers: cookie ? { cookie } : {}, seconds: settings.seconds });
        return { ...result, appCpuUs: ((await cpuMs(target.pid)) - cpuBefore) * 1000 / result.requests };
      };
      if (app.env.LIX_CACHE_URL !== lix.url) {
        systems.push({ name: app.name, measure });
        continue;
      }
      const counted = { operations: 0, requests: 0 };
      lixOps.set(app.name, counted);
      systems.push({
        name: app.name,
        measure: async () => {
          const before = await lixOperations(lix.url);
          const result = await measure();
          counted.operations += (await lixOperations(lix.url)) - before;
          counted.requests += result.requests;
          return result;
        },
      });
    }
    // The near cache's counters from its first load round on (the login check before is one miss).
    const nearBefore = await nearStats(nearApp!.url);
    const loadBefore = os.loadavg()[0]!;
    const results = await interleave(systems, settings.rounds, (system, round, r) =>
      console.error(`sessions: round ${round + 1}, ${system}: ${formatNumber(r.rps)} req/s, ${r.errors} errors`),
    );
    const loadAfter = os.loadavg()[0]!;
    const nearRate = hitRate(nearBefore, await nearStats(nearApp!.url));
    const ceiling = results.get(apps[0]!.name)!.rps;
    const connectRedis = results.get('express-session + connect-redis')!.rps;
    const near = results.get(NEAR)!.rps;
    const opsPerRequest = (name: string) => {
      const c = lixOps.get(name)!;
      return c.operations / c.requests;
    };
    return {
      title: 'Sessions: authenticated GET /api/profile in Express (50 connections)',
      header: ['stack', 'requests/s', 'p50 ms', 'p99 ms', 'vs no sessions', 'vs connect-redis', 'app CPU µs/request', 'near-cache hits', 'errors'],
      rows: apps.map(({ name }) => {
        const r = results.get(name)!;
        return [name, formatNumber(r.rps), formatNumber(r.p50, 1), formatNumber(r.p99, 1), ratio(r.rps, ceiling), ratio(r.rps, connectRedis), formatNumber(r.appCpuUs), name === NEAR ? nearRate : '—', String(r.errors)];
      }),
      notes: [
        'Every session stack slides the idle timeout. Without a near cache, on every request: lix-cache-session reads with touch (one command), express-session calls store.touch (connect-redis: an EXPIRE). With the near cache the session is read in-process and its touch is coalesced: at most one `expire` per session per `touchInterval` (here 60 s, min(60, idle timeout / 10)), sent in the background.',
        `Near-cache hits: hits / (hits + misses) of the near-cache app over all its rounds (its GET /bench/near-stats). Lix server operations per request (its /metrics lix_operations_total over each row's rounds): ${opsPerRequest(apps[1]!.name).toFixed(3)} without the near cache (all 50 connections send one session, and the SDK answers identical gets queued in one tick with one command; each request still waits for a round trip), ${opsPerRequest(NEAR).toFixed(5)} with it (the coalesced touches; one may land in another row's rounds).`,
        'App CPU µs/request: user + system CPU time of the app process (/proc) over a round, divided by the requests it answered; medians. The load generator and the servers run beside it on the same two cores, so a stack that costs the app more CPU per request serves fewer requests.',
        `Load average (1 min) ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the rounds, on ${os.cpus().length} cores shared by the load generator, the app, redis-server and the Lix server.`,
        `Targets: the Lix session route ≥ express-session + connect-redis; with the near cache ≥ 0.95× the no-session ceiling and ≥ 1.5× express-session + connect-redis. This run: near cache ${ratio(near, ceiling)} the ceiling (${near >= 0.95 * ceiling ? 'met' : 'missed'}), ${ratio(near, connectRedis)} connect-redis (${near >= 1.5 * connectRedis ? 'met' : 'missed'}). With no round trip left, what holds it back is in-process work: the app spends ${formatNumber(results.get(NEAR)!.appCpuUs - results.get(apps[0]!.name)!.appCpuUs)} µs of CPU per request more than with no sessions (the session layer: cookie, SHA-256 of the id, a copy of the session, the middleware and its res.end hook), against ${formatNumber(results.get(apps[1]!.name)!.appCpuUs - results.get(NEAR)!.appCpuUs)} µs it saves over the round-trip row.`,
      ],
    };
  } finally {
    await Promise.all([...targets.map((t) => t.stop()), lix.stop(), redis.stop()]);
  }
}
