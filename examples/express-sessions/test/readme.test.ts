import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { startExample, type ExampleProcess } from './example-process';

// The README's curl walk-through, taken from the README as it is and run with bash against
// the app, so that what it shows stays true. It needs curl (and bash, sed).

const readme = (example: string) => readFileSync(new URL(`../../${example}/README.md`, import.meta.url), 'utf8');

/** The README's one sh block that logs out with the CSRF token. */
function walkThrough(markdown: string): string {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!).filter((block) => block.includes('"$APP/api/logout"'));
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

let server: ServerProcess;
let app: ExampleProcess;
let dir: string;

beforeAll(async () => {
  server = await startServer();
  app = await startExample(server.url);
  dir = mkdtempSync(join(tmpdir(), 'lix-readme-curl-'));
});

afterAll(async () => {
  await app?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the README's curl walk-through", () => {
  it('runs as written: login, profile, devices, logout refused without the token and done with it, then 401', async () => {
    try {
      execFileSync('bash', ['-c', 'command -v curl'], { stdio: 'ignore' });
    } catch {
      throw new Error('curl is not installed: this test runs the README\'s curl commands (apt-get install curl).');
    }
    const script = walkThrough(readme('express-sessions'));
    // Only PATH and APP: no proxy settings, and HOME in a fresh folder so no ~/.curlrc applies.
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, APP: app.url },
      timeout: 15_000,
    });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    const [login, profile, devices, refused, logout, after] = lines as [string, string, string, string, string, string];
    expect(JSON.parse(login)).toEqual({ message: 'Login successful', csrfToken: expect.stringMatching(/^[\w-]{43}$/) });
    expect(profile).toBe('{"userId":"user-1","username":"alice","email":"alice@example.com","roles":["user"]} 200');
    expect(devices).toMatch(/ 200$/);
    const { sessions } = JSON.parse(devices.slice(0, -4)) as { sessions: { deviceName: string; current: boolean }[] };
    expect(sessions).toEqual([expect.objectContaining({ deviceName: 'curl', current: true })]);
    expect(refused).toMatch(/^\{"error":"Invalid CSRF token",.*\} 403$/);
    expect(logout).toBe('{"message":"Logout successful"} 200');
    expect(after).toBe('{"error":"Not authenticated"} 401');
  });

  it('is the same in the Fastify, Hono and Next.js READMEs (one route contract)', () => {
    const block = walkThrough(readme('express-sessions'));
    for (const example of ['fastify-sessions', 'hono-sessions', 'next-sessions']) {
      expect(walkThrough(readme(example)), example).toBe(block);
    }
  });
});
