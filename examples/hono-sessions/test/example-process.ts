import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../test/helpers/free-port';

/**
 * Start the Hono example as a user does (`npm start` runs `tsx src/server.ts`), against
 * the BUILT lix-cache-session / lix-cache-sdk, on a free port, with plain-HTTP cookies.
 */
const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));

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

export async function startExample(cacheUrl: string, env: Record<string, string> = {}): Promise<ExampleProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('LIX_') && !name.startsWith('SESSION_') && name !== 'PORT' && name !== 'HOST') childEnv[name] = value;
  }
  Object.assign(childEnv, { PORT: String(port), HOST: '127.0.0.1', LIX_CACHE_URL: cacheUrl, COOKIE_SECURE: 'false', NODE_ENV: 'test' }, env);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: EXAMPLE_DIR, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The example exited (code ${child.exitCode}). Output:\n${output}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
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
