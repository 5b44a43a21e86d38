import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Run the built `lix-cache` (the package's bin, which runs dist/cli.js, as `npx lix-cache` does)
 * as a child process. Build it first: `npm run build -w lix-cache-cli` (root `npm test` does).
 */

/** Path of the bin the helpers spawn. */
export const CLI = fileURLToPath(new URL('../bin/lix-cache.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The test process's environment without LIX_* variables (so runs are hermetic), plus `extra` (undefined removes). */
export function hermeticEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('LIX_')) env[name] = value;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** A running `lix-cache` (e.g. `watch`): its output so far and its exit. */
export interface CliProcess {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Start `command args` (default: node and the CLI) with stdout and stderr piped (not a terminal). */
export function startCli(args: string[], env?: Record<string, string | undefined>, command: [string, string[]] = [process.execPath, [CLI]]): CliProcess {
  const child = spawn(command[0], [...command[1], ...args], { env: hermeticEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return { process: child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Run `lix-cache args` to completion; killed after `timeoutMs`. */
export async function lix(args: string[], env?: Record<string, string | undefined>, timeoutMs = 20_000): Promise<CliRun> {
  const run = startCli(args, env);
  run.process.stdin!.end();
  const timer = setTimeout(() => run.process.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Parse a run's stdout as JSON, with the run in the message when it is not. */
export function json<T = unknown>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
