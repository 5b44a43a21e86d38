import os from 'node:os';
import { startServer } from '../../test/helpers/server-process';
import { hitRate, nearStats } from '../lib/lix-metrics';
import { startTarget, type Target } from '../lib/processes';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, median, percentile } from '../lib/stats';

/** Unmeasured iterations first, so that JIT warm-up of both apps does not count as propagation. */
const WARMUP = 20;
/** Most GETs on B to get the session into its near cache (each miss's touch drops the copy it filled). */
const MAX_FILL_GETS = 10;
/** A revoked session B still serves after this long is a failure, not a slow sample. */
const GIVE_UP_MS = 5000;

/** GET /api/profile with a cookie; its status (the body is drained so the connection is reused). */
async function profileStatus(app: Target, cookie: string): Promise<number> {
  const response = await fetch(`${app.url}/api/profile`, { headers: { cookie } });
  await response.arrayBuffer();
  return response.status;
}

/** Log in on `app`; the Cookie header of the new session. */
async function login(app: Target): Promise<string> {
  const response = await fetch(`${app.url}/login`, { method: 'POST' });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`login failed on ${app.url}: ${response.status}`);
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';', 1)[0])
    .join('; ');
}

/**
 * Read the session on B until B answers it from its near cache (its hits counter grew):
 * a revocation measured against a session B still reads from the server would say nothing
 * about the near cache. Returns how many GETs it took.
 */
async function fillNearCache(b: Target, cookie: string): Promise<number> {
  for (let gets = 1; gets <= MAX_FILL_GETS; gets++) {
    const before = (await nearStats(b.url)).hits;
    const status = await profileStatus(b, cookie);
    if (status !== 200) throw new Error(`B answered ${status} for a session logged in on A (are the cookies shared?)`);
    if ((await nearStats(b.url)).hits > before) return gets;
  }
  throw new Error(`B did not serve the session from its near cache in ${MAX_FILL_GETS} GETs`);
}

interface Revocation {
  /** From sending the logout to A until B's first 401 arrived. */
  propagationMs: number;
  /** From sending the logout until A answered it. */
  logoutMs: number;
  /** 200s B answered (from its near cache) while the revocation travelled. */
  stalePolls: number;
}

/** Log out through A and poll B back to back until it answers 401. */
async function revoke(a: Target, b: Target, cookie: string): Promise<Revocation> {
  const sent = performance.now();
  const logout = fetch(`${a.url}/logout`, { method: 'POST', headers: { cookie } }).then(async (response) => {
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`logout failed on A: ${response.status}`);
    return performance.now() - sent;
  });
  let stalePolls = 0;
  for (;;) {
    const status = await profileStatus(b, cookie);
    if (status === 401) break;
    if (status !== 200) throw new Error(`B answered ${status} while polling`);
    if (performance.now() - sent > GIVE_UP_MS) throw new Error(`B still served the session ${GIVE_UP_MS} ms after its logout`);
    stalePolls++;
  }
  const propagationMs = performance.now() - sent;
  return { propagationMs, logoutMs: await logout, stalePolls };
}

function latencyRow(what: string, values: number[]): string[] {
  return [what, formatNumber(values.length), ...[50, 90, 99].map((p) => formatNumber(percentile(values, p), 1)), formatNumber(Math.max(...values), 1)];
}

/**
 * Revocation across app processes: one Lix server, two Express apps A and B with
 * lix-cache-session on a near cache. Each iteration logs in on A, has B serve the session
 * from its near cache, logs out through A, and times how long B keeps answering from its copy.
 */
export async function nearCache(settings: BenchSettings): Promise<Section> {
  const iterations = settings.quick ? 200 : 1000;
  const lix = await startServer();
  // Same store, same cookie names (lix.sid, secure: false): the cookie is the session id, valid in both.
  const env = { MODE: 'lix', LIX_CACHE_URL: lix.url, NEAR_CACHE: 'true' };
  const targets: Target[] = [];
  try {
    const a = await startTarget('session-app.ts', env);
    targets.push(a);
    const b = await startTarget('session-app.ts', env);
    targets.push(b);
    for (const app of [a, b]) if (!(await nearStats(app.url)).live) throw new Error(`${app.url}: the near cache's push channel is not up`);

    const measured: Revocation[] = [];
    const fillGets: number[] = [];
    let bBefore = await nearStats(b.url);
    const loadBefore = os.loadavg()[0]!;
    for (let i = 0; i < WARMUP + iterations; i++) {
      if (i === WARMUP) bBefore = await nearStats(b.url);
      const cookie = await login(a);
      const gets = await fillNearCache(b, cookie);
      const result = await revoke(a, b, cookie);
      if (i < WARMUP) continue;
      fillGets.push(gets);
      measured.push(result);
    }
    const bAfter = await nearStats(b.url);
    if (!bAfter.live || bAfter.flushes !== bBefore.flushes) throw new Error("B's push channel went down during the run: its reads bypassed the near cache");

    const propagation = measured.map((r) => r.propagationMs);
    const p99 = percentile(propagation, 99);
    const fills = (n: number) => fillGets.filter((g) => g === n).length;
    return {
      title: 'Near cache: a logout on app A reaches app B (two Express processes, one Lix server)',
      header: ['measured', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      rows: [latencyRow('logout sent to A → B first answers 401', propagation), latencyRow('logout sent to A → A answers it (part of the above)', measured.map((r) => r.logoutMs))],
      notes: [
        `Each iteration: log in on A (POST /login), GET /api/profile on B until B answers it from its near cache (its hits counter grew, checked every iteration), then POST /logout on A (\`req.logout()\`) and poll B's GET /api/profile back to back, from the moment the logout is sent, until B answers 401. ${formatNumber(iterations)} iterations after ${WARMUP} unmeasured ones; both apps run lix-cache-session on \`new LixCache({ url, nearCache: true })\`, each in its own process, beside the Lix server (memory engine); the bench process is the client.`,
        `Load average (1 min) ${loadBefore.toFixed(1)} before and ${os.loadavg()[0]!.toFixed(1)} after, on ${os.cpus().length} cores shared by the bench process, both apps and the Lix server.`,
        `Target: p99 ≤ 50 ms. This run: ${formatNumber(p99, 1)} ms (${p99 <= 50 ? 'met' : 'missed'}).`,
        `B answered ${formatNumber(measured.reduce((sum, r) => sum + r.stalePolls, 0))} polls from its copy after the logout was sent (median ${formatNumber(median(measured.map((r) => r.stalePolls)))} per iteration); B answered 401 every time (a run where it does not within ${GIVE_UP_MS / 1000} s fails).`,
        `B's near-cache hit rate over the measured iterations: ${hitRate(bBefore, bAfter)} (hits / (hits + misses), from its GET /bench/near-stats; the polls count).`,
        `GETs on B before its first near-cache hit: ${[1, 2, 3, 4].map((n) => `${n}: ${fills(n)}`).join(', ')}, more: ${fillGets.filter((g) => g > 4).length}. The first read misses and sends the session's touch (\`expire\`), which drops the copy it just filled (the client's own change); the second read fills it, and B answers the third from its copy for the rest of \`touchInterval\`.`,
      ],
    };
  } finally {
    await Promise.all([...targets.map((t) => t.stop()), lix.stop()]);
  }
}
