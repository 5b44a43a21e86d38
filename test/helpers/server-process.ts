import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port';

/**
 * Start the real Lix Cache server (the package's bin, which runs the built
 * `packages/server/dist/cli.js`, as a user runs it) on a free port and talk to it over real HTTP.
 * Build it first: `npm run build -w lix-cache-server` (root `npm test` does).
 *
 * ```ts
 * const server = await startServer({ env: { LIX_CACHE_LIMIT: '100' } });
 * await fetch(`${server.url}/cache/stats`);
 * expect(await server.stop()).toBe(0);
 * ```
 */

/** Path of the server CLI the helpers spawn: the package's bin, as `npx lix-cache-server` runs it. */
export const SERVER_CLI = fileURLToPath(new URL('../../packages/server/bin/lix-cache-server.js', import.meta.url));

export interface StartServerOptions {
  /** Extra CLI flags, e.g. `['--limit', '100']`. Flags win over `env`. */
  args?: string[];
  /**
   * Environment for the server, on top of the test process's environment with every
   * `LIX_*`, `PORT`, `HOST` and `LOG_LEVEL` variable removed (so runs are hermetic).
   */
  env?: Record<string, string | undefined>;
  /** Port to listen on (passed as `PORT`). Default: a free port. */
  port?: number;
  /** How long to wait for `/health` to answer (any HTTP status). Default 15000 ms. */
  timeoutMs?: number;
  /** The server CLI to run, e.g. an installed package's bin. Default `SERVER_CLI`. */
  cli?: string;
}

export interface ServerProcess {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  logs(): string;
  /** Resolves with the exit code once the process has exited (by itself or by stop/kill). */
  exited: Promise<number | null>;
  /** Send `signal` (default SIGTERM) and resolve with the exit code (SIGKILL after 10 s; then null). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL it now; resolves once it is gone. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function hermeticEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('LIX_') || name === 'PORT' || name === 'HOST' || name === 'LOG_LEVEL') continue;
    env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

/** Start the server and resolve once `/health` answers. Rejects with the server's output if it exits or times out. */
export async function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [options.cli ?? SERVER_CLI, ...(options.args ?? [])], {
    env: hermeticEnv({ HOST: '127.0.0.1', PORT: String(port), ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const gone = exited(child).then((code) => {
    live.delete(child);
    return code;
  });

  const server: ServerProcess = {
    url,
    port,
    process: child,
    logs: () => output,
    exited: gone,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await gone;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await gone;
    },
  };

  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let exitCode: number | null | undefined;
  void gone.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`The server exited (code ${exitCode}) before answering /health. Output:\n${output}`);
    try {
      await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.kill();
      throw new Error(`The server did not answer ${url}/health in time. Output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the server CLI to completion (for `--help`, `--version`, bad flags), with the
 * same hermetic environment as `startServer`. Killed after `timeoutMs` (default 10000).
 */
export function runCli(args: string[], env?: Record<string, string | undefined>, timeoutMs = 10_000): Promise<CliRun> {
  const child = spawn(process.execPath, [SERVER_CLI, ...args], { env: hermeticEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return exited(child).then((code) => {
    clearTimeout(timer);
    live.delete(child);
    return { code, stdout, stderr };
  });
}
