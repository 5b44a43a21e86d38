import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/free-port';
import { waitFor } from '../../test/helpers/wait-for';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Target {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Start a TypeScript file of bench/targets/ as its own process (tsx) on a free
 * port, and wait until `readyPath` answers.
 */
export function startTarget(file: string, env: Record<string, string> = {}, readyPath = '/'): Promise<Target> {
  const path = fileURLToPath(new URL(`../targets/${file}`, import.meta.url));
  return startCommand(file, () => ['--import', 'tsx', path], env, readyPath);
}

/**
 * Start `node <args(port)>` on a free port (also passed as PORT), with
 * NODE_ENV=production, and wait until `readyPath` answers below 500.
 */
export async function startCommand(what: string, args: (port: number) => string[], env: Record<string, string> = {}, readyPath = '/', cwd?: string): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, args(port), {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  live.add(child);
  await waitFor(async () => (await fetch(url + readyPath)).status < 500, { timeoutMs: 30_000, what: `${what} to start` });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          live.delete(child);
          return resolve();
        }
        child.once('close', () => {
          live.delete(child);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Resident memory of a process in bytes, from /proc. */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb * 1024;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (clock ticks of 10 ms). */
export async function cpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
