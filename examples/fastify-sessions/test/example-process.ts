import { fileURLToPath } from 'node:url';
import { startAppProcess, type AppProcess } from '../../../test/helpers/app-process';

/**
 * Start the Fastify example app as a user does (`npm start` runs `tsx src/server.ts`),
 * against the BUILT lix-cache-session / lix-cache-sdk, on a free port, with plain-HTTP
 * cookies unless `env` says `COOKIE_SECURE: 'true'`.
 */
const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));

export type ExampleProcess = AppProcess;

export function startExample(cacheUrl: string, env: Record<string, string> = {}): Promise<ExampleProcess> {
  return startAppProcess({ command: [process.execPath, '--import', 'tsx', 'src/server.ts'], cwd: EXAMPLE_DIR, cacheUrl, env });
}
