import { startRedis } from '../../test/helpers/redis-process';
import { startServer } from '../../test/helpers/server-process';
import { load } from '../lib/autocannon';
import { startTarget, type Target } from '../lib/processes';
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
 * (on a Lix server, and on Redis through the SDK's redis:// engine) beside
 * express-session (MemoryStore, and connect-redis on the same Redis), and
 * beside the same route with no sessions at all.
 */
export async function sessions(settings: BenchSettings): Promise<Section> {
  const lix = await startServer();
  const redis = await startRedis();
  const apps: { name: string; env: Record<string, string> }[] = [
    { name: 'no sessions (Express ceiling)', env: { MODE: 'none' } },
    { name: 'lix-cache-session → Lix server (memory engine)', env: { MODE: 'lix', LIX_CACHE_URL: lix.url } },
    { name: 'lix-cache-session → Redis (redis:// engine)', env: { MODE: 'lix', LIX_CACHE_URL: `${redis.url}?keyPrefix=lixbench:` } },
    { name: 'express-session + MemoryStore', env: { MODE: 'express-session-memory' } },
    { name: 'express-session + connect-redis', env: { MODE: 'express-session-redis', REDIS_URL: redis.url } },
  ];
  const targets: Target[] = [];
  try {
    const systems = [];
    for (const app of apps) {
      const target = await startTarget('session-app.ts', app.env);
      targets.push(target);
      const cookie = app.env.MODE === 'none' ? '' : await loginCookie(target);
      systems.push({ name: app.name, measure: () => load({ url: `${target.url}/api/profile`, headers: cookie ? { cookie } : {}, seconds: settings.seconds }) });
    }
    const results = await interleave(systems, settings.rounds);
    const ceiling = results.get(apps[0]!.name)!.rps;
    const connectRedis = results.get(apps[4]!.name)!.rps;
    return {
      title: 'Sessions: authenticated GET /api/profile in Express (50 connections)',
      header: ['stack', 'requests/s', 'p50 ms', 'p99 ms', 'vs no sessions', 'vs connect-redis', 'errors'],
      rows: apps.map(({ name }) => {
        const r = results.get(name)!;
        return [name, formatNumber(r.rps), formatNumber(r.p50, 1), formatNumber(r.p99, 1), ratio(r.rps, ceiling), ratio(r.rps, connectRedis), String(r.errors)];
      }),
      notes: ['Every session stack slides the TTL on each request (lix: get with touch; express-session: store.touch).', 'Target: the Lix session route ≥ express-session + connect-redis.'],
    };
  } finally {
    await Promise.all([...targets.map((t) => t.stop()), lix.stop(), redis.stop()]);
  }
}
