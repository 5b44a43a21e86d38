import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port';

/**
 * Start an example app (any framework) as its own process on a free port, pointed at a
 * Lix server, and wait until its `/health` answers. Every example follows the same
 * environment contract (PORT, HOST, LIX_CACHE_URL, COOKIE_SECURE, SESSION_*), so one
 * helper starts them all:
 *
 * ```ts
 * const app = await startAppProcess({
 *   command: [process.execPath, '--import', 'tsx', 'src/server.ts'],
 *   cwd: fileURLToPath(new URL('..', import.meta.url)),
 *   cacheUrl: server.url,
 *   env: { SESSION_IDLE_TIMEOUT: '2' },
 * });
 * await fetch(`${app.url}/api/profile`);
 * await app.stop();
 * ```
 */

export interface AppProcess {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** Everything the app wrote to stdout and stderr so far. */
  logs(): string;
  /** SIGTERM (SIGKILL after 5 s) to the app's whole process group; resolves once it is gone. */
  stop(): Promise<void>;
}

export interface StartAppOptions {
  /** Executable and arguments, e.g. `[process.execPath, '--import', 'tsx', 'src/server.ts']`. */
  command: [string, ...string[]];
  /** Directory to run it in (the example's folder). */
  cwd: string;
  /** The Lix server the app uses (`LIX_CACHE_URL`). */
  cacheUrl: string;
  /** Environment on top of the defaults (`COOKIE_SECURE=false`, `NODE_ENV=test`); wins over them. */
  env?: Record<string, string>;
  /** How long to wait for `/health`. Default 30000 ms (a cold `next start` is slow). */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

/** Signal the child's process group (launchers such as npx spawn the server as a grandchild). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal); // already gone, or no group (Windows)
  }
}

/** The test process's environment minus anything that configures an app, so runs are hermetic. */
function hermeticEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(LIX_|SESSION_|COOKIE_|REMEMBER_ME_|TRUST_PROXY$|EXAMPLE_|PORT$|HOST$)/.test(name)) continue;
    env[name] = value;
  }
  return env;
}

/** Start the app and resolve once `GET /health` answers 200. Rejects with the app's output if it exits or times out. */
export async function startAppProcess(options: StartAppOptions): Promise<AppProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...hermeticEnv(), PORT: String(port), HOST: '127.0.0.1', LIX_CACHE_URL: options.cacheUrl, COOKIE_SECURE: 'false', NODE_ENV: 'test', ...options.env };
  const [file, ...args] = options.command;
  const child = spawn(file, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
  const app: AppProcess = {
    url,
    port,
    logs: () => output,
    async stop() {
      if (!live.has(child)) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.command.join(' ')} (in ${options.cwd}) exited (code ${child.exitCode}) before answering /health. Output:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return app;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await app.stop();
      throw new Error(`${options.command.join(' ')} (in ${options.cwd}) did not answer ${url}/health in time. Output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
