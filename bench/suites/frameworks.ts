import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startRedis } from '../../test/helpers/redis-process';
import { startServer } from '../../test/helpers/server-process';
import { load, type LoadResult } from '../lib/autocannon';
import { startCommand, startTarget, type Target } from '../lib/processes';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave, ratio } from '../lib/stats';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

type Kind = 'none' | 'lix' | 'usual';

interface Stack {
  framework: string;
  kind: Kind;
  /** What the row shows in its stack column. */
  label: string;
  /** The lix-cache-session entry the stack needs, when it is an adapter that may not be built yet. */
  entry?: string;
  start(urls: { lix: string; redis: string }): Promise<Target>;
}

const NEXT_DIR = fileURLToPath(new URL('../targets/next-app/', import.meta.url));
const NEXT_BIN = require.resolve('next/dist/bin/next');
const NEXT_ENV = { NEXT_TELEMETRY_DISABLED: '1' };

const tsx = (file: string, mode: string, env: Record<string, string> = {}) => () => startTarget(file, { MODE: mode, ...env });
const nextStart = (mode: string, env: Record<string, string> = {}) =>
  startCommand(`next start (${mode})`, (port) => [NEXT_BIN, 'start', NEXT_DIR, '-p', String(port), '-H', '127.0.0.1'], { ...NEXT_ENV, MODE: mode, ...env });

/**
 * Every framework three ways: with no sessions (its ceiling), with lix-cache-session's
 * adapter on a Lix server (memory engine), and with its usual session library.
 */
const STACKS: Stack[] = [
  { framework: 'Express', kind: 'none', label: 'no sessions', start: tsx('session-app.ts', 'none') },
  { framework: 'Express', kind: 'lix', label: 'lix-cache-session/express → Lix server', start: ({ lix }) => startTarget('session-app.ts', { MODE: 'lix', LIX_CACHE_URL: lix }) },
  { framework: 'Express', kind: 'usual', label: 'express-session + connect-redis', start: ({ redis }) => startTarget('session-app.ts', { MODE: 'express-session-redis', REDIS_URL: redis }) },
  { framework: 'Fastify', kind: 'none', label: 'no sessions', start: tsx('fastify-app.ts', 'none') },
  { framework: 'Fastify', kind: 'lix', label: 'lix-cache-session/fastify → Lix server', entry: 'fastify', start: ({ lix }) => startTarget('fastify-app.ts', { MODE: 'lix', LIX_CACHE_URL: lix }) },
  { framework: 'Fastify', kind: 'usual', label: '@fastify/session + connect-redis', start: ({ redis }) => startTarget('fastify-app.ts', { MODE: 'fastify-session-redis', REDIS_URL: redis }) },
  { framework: 'Hono', kind: 'none', label: 'no sessions', start: tsx('hono-app.ts', 'none') },
  { framework: 'Hono', kind: 'lix', label: 'lix-cache-session/hono → Lix server', entry: 'hono', start: ({ lix }) => startTarget('hono-app.ts', { MODE: 'lix', LIX_CACHE_URL: lix }) },
  { framework: 'Hono', kind: 'usual', label: 'hono-sessions (CookieStore)', start: tsx('hono-app.ts', 'hono-sessions-cookie') },
  { framework: 'Next.js', kind: 'none', label: 'no sessions', start: () => nextStart('none') },
  { framework: 'Next.js', kind: 'lix', label: 'lix-cache-session/next → Lix server', entry: 'next', start: ({ lix }) => nextStart('lix', { LIX_CACHE_URL: lix }) },
  { framework: 'Next.js', kind: 'usual', label: 'iron-session (sealed cookie)', start: () => nextStart('iron-session') },
];

/** Installed version of a package as bench/ resolves it (read from node_modules: some do not export ./package.json). */
function version(pkg: string): string {
  const own = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  const file = existsSync(own) ? own : new URL(`../../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Whether lix-cache-session has a built `./<entry>` export (the adapters land one by one). */
function hasEntry(entry: string): boolean {
  const root = fileURLToPath(new URL('../../packages/session/', import.meta.url));
  const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const file = pkg.exports[`./${entry}`]?.import?.default;
  return Boolean(file && existsSync(root + file));
}

/** Log in once and return the Cookie header that proves it (the last value of each cookie name wins). */
async function loginCookie(target: Target): Promise<string> {
  const response = await fetch(`${target.url}/login`, { method: 'POST' });
  if (!response.ok) throw new Error(`login failed on ${target.url}: ${response.status} ${await response.text()}`);
  const jar = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';', 1)[0]!;
    jar.set(pair.slice(0, pair.indexOf('=')), pair);
  }
  const cookie = [...jar.values()].join('; ');
  const check = await fetch(`${target.url}/api/profile`, { headers: { cookie } });
  if (check.status !== 200) throw new Error(`the session cookie did not authenticate on ${target.url}: ${check.status} ${await check.text()}`);
  return cookie;
}

/**
 * The authenticated GET /api/profile (after login, the session's TTL sliding on every
 * request) on Express, Fastify, Hono and Next.js: each with no sessions, with
 * lix-cache-session, and with the framework's usual session library, all in one
 * interleaved run.
 */
export async function frameworks(settings: BenchSettings): Promise<Section> {
  const stacks = STACKS.filter((s) => !s.entry || hasEntry(s.entry));
  const notRun = STACKS.filter((s) => !stacks.includes(s));
  if (stacks.some((s) => s.framework === 'Next.js')) {
    console.error('frameworks: next build of bench/targets/next-app …');
    await run(process.execPath, [NEXT_BIN, 'build', NEXT_DIR], { env: { ...process.env, ...NEXT_ENV }, maxBuffer: 16 * 1024 * 1024 });
  }
  const loadBefore = os.loadavg()[0]!;
  const lix = await startServer();
  const redis = await startRedis();
  const targets: Target[] = [];
  const name = (s: Stack) => `${s.framework}: ${s.label}`;
  try {
    const systems: { name: string; measure: () => Promise<LoadResult> }[] = [];
    for (const stack of stacks) {
      const target = await stack.start({ lix: lix.url, redis: redis.url });
      targets.push(target);
      const cookie = stack.kind === 'none' ? '' : await loginCookie(target);
      systems.push({ name: name(stack), measure: () => load({ url: `${target.url}/api/profile`, headers: cookie ? { cookie } : {}, seconds: settings.seconds }) });
    }
    const results = await interleave(systems, settings.rounds, (system, round, r) =>
      console.error(`frameworks: round ${round + 1}, ${system}: ${formatNumber(r.rps)} req/s, ${r.errors} errors`),
    );
    const rps = (framework: string, kind: Kind) => {
      const stack = stacks.find((s) => s.framework === framework && s.kind === kind);
      return stack ? results.get(name(stack))!.rps : NaN;
    };
    const rows = STACKS.map((stack) => {
      const r = results.get(name(stack));
      if (!r) return [stack.framework, stack.label, 'not run', '', '', '', '', ''];
      return [
        stack.framework,
        stack.label,
        formatNumber(r.rps),
        formatNumber(r.p50, 1),
        formatNumber(r.p99, 1),
        ratio(r.rps, rps(stack.framework, 'none')),
        ratio(r.rps, rps(stack.framework, 'usual')),
        String(r.errors),
      ];
    });
    return {
      title: 'Sessions by framework: authenticated GET /api/profile (50 connections)',
      header: ['framework', 'stack', 'requests/s', 'p50 ms', 'p99 ms', 'vs no sessions', 'vs the usual library', 'errors'],
      rows,
      notes: [
        `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node.js ${process.version}, \`npm run bench -- --only frameworks${settings.quick ? ' --quick' : ''}\`: ${settings.rounds} interleaved rounds of ${settings.seconds} s per stack, medians.`,
        `Load average (1 min) ${loadBefore.toFixed(1)} before and ${os.loadavg()[0]!.toFixed(1)} after the rounds, on ${os.cpus().length} cores: the load generator, the app, redis-server and the Lix server share them, so absolute numbers move between runs; the ratios within one run are what to compare.`,
        'One process per stack, all measured in the same interleaved rounds; ratios compare stacks of one framework within this run.',
        'Every session stack slides the expiry on each request: lix-cache-session reads with touch on a Lix server (memory engine, its own process); express-session and @fastify/session (rolling) write the session back to redis-server through connect-redis; hono-sessions (CookieStore, autoExtendExpiration) and iron-session (session.save() on each request) re-seal the whole session into the cookie.',
        'hono-sessions ships a CookieStore, a MemoryStore and a Bun SQLite store, no Redis store: its row is the cookie store. iron-session keeps the session only in the sealed cookie.',
        `Versions: ${['express', 'express-session', 'fastify', '@fastify/session', '@fastify/cookie', 'connect-redis', 'hono', '@hono/node-server', 'hono-sessions', 'next', 'react', 'iron-session'].map((p) => `${p} ${version(p)}`).join(', ')}.`,
        'Hono runs on @hono/node-server; the Next.js app (bench/targets/next-app, route handlers only) is built with `next build` and served by `next start`.',
        ...(notRun.length ? [`Not run: ${notRun.map((s) => `${s.framework} ${s.label}`).join(', ')} (the adapter entry is not built on this branch).`] : []),
      ],
    };
  } finally {
    await Promise.all([...targets.map((t) => t.stop()), lix.stop(), redis.stop()]);
  }
}
