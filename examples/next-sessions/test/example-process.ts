import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../../test/helpers/free-port';

/**
 * Build the example with `next build` (once per change: see `buildExample`) and start it as a
 * user does, `next start`, against the BUILT lix-cache-session / lix-cache-sdk, on a free
 * port, with plain-HTTP cookies. Build the packages first (`npm run build`).
 */
const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const NEXT_BIN = createRequire(join(EXAMPLE_DIR, 'package.json')).resolve('next/dist/bin/next');
const BUILD_ID = join(EXAMPLE_DIR, '.next', 'BUILD_ID');
const LOCK = join(EXAMPLE_DIR, '.next-build.lock');
/** A cold `next build` takes about 80 s on a 2-core machine; allow for a slower CI runner. */
export const BUILD_TIMEOUT_MS = 300_000;

const run = promisify(execFile);

export interface ExampleProcess {
  url: string;
  port: number;
  logs(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The environment without this machine's Lix, session and port settings (runs are hermetic). */
function hermeticEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('LIX_') && !name.startsWith('SESSION_') && !name.startsWith('npm_') && name !== 'PORT' && name !== 'HOST' && name !== 'NODE_ENV' && name !== 'TRUST_PROXY') {
      env[name] = value;
    }
  }
  env.NEXT_TELEMETRY_DISABLED = '1';
  return env;
}

/** Newest modification time (ms) of `path`, or of the files under it. */
async function newest(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = 0;
  for (const entry of await readdir(path)) {
    latest = Math.max(latest, await newest(join(path, entry)));
  }
  return latest;
}

/**
 * Whether .next holds a build of the current sources: BUILD_ID newer than the app (src,
 * configs, package.json) and the built packages it bundles (their dist/).
 */
async function buildIsFresh(): Promise<boolean> {
  const built = await stat(BUILD_ID).catch(() => undefined);
  if (!built) return false;
  const inputs = [
    ...['src', 'next.config.ts', 'tsconfig.json', 'package.json'].map((name) => join(EXAMPLE_DIR, name)),
    ...['core', 'sdk', 'session'].map((name) => join(ROOT, 'packages', name, 'dist')),
  ];
  const latest = Math.max(...(await Promise.all(inputs.map(newest))));
  return built.mtimeMs > latest;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A lock across test processes (vitest runs files in parallel): one `next build` at a time. */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => 'NaN'));
      const age = Date.now() - ((await stat(LOCK).catch(() => undefined))?.mtimeMs ?? Date.now());
      // A lock left by a process that died mid-build (no pid yet: it is being taken right now,
      // unless the lock is older than any build).
      if ((Number.isInteger(owner) && !alive(owner)) || age > BUILD_TIMEOUT_MS) await rm(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Another next build of ${EXAMPLE_DIR} held ${LOCK} for too long.`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    await writeFile(join(LOCK, 'pid'), String(process.pid));
    return await work();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

let building: Promise<void> | undefined;

/**
 * `next build` the example unless .next already holds a build of the current sources and
 * packages: once per test run (a rebuilt dist/ or an edited route means a new build).
 */
export function buildExample(): Promise<void> {
  building ??= (async () => {
    if (await buildIsFresh()) return;
    await withBuildLock(async () => {
      if (await buildIsFresh()) return; // built by another test process while we waited
      try {
        await run(process.execPath, [NEXT_BIN, 'build'], { cwd: EXAMPLE_DIR, env: hermeticEnv(), timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 << 20 });
      } catch (error) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        throw new Error(`next build of the example failed: ${(error as Error).message}\n${stdout}\n${stderr}`);
      }
    });
  })();
  building.catch(() => (building = undefined));
  return building;
}

export async function startExample(cacheUrl: string, env: Record<string, string> = {}): Promise<ExampleProcess> {
  await buildExample();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const childEnv: NodeJS.ProcessEnv = { ...hermeticEnv(), LIX_CACHE_URL: cacheUrl, COOKIE_SECURE: 'false', NODE_ENV: 'production', ...env };
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: EXAMPLE_DIR,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const gone = new Promise<void>((resolve) =>
    child.once('close', () => {
      live.delete(child);
      resolve();
    }),
  );
  const example: ExampleProcess = {
    url,
    port,
    logs: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The example exited (code ${child.exitCode}). Output:\n${output}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return example;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await example.stop();
      throw new Error(`The example did not answer ${url}/health in time. Output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
