import { afterAll, describe, expect, it } from 'vitest';
import { projectWithout } from '../../../test/helpers/without-packages';

// ioredis is a dependency of the server, but it loads only for a Redis store: should an
// install lack it, --store redis:// says what to install, and memory:// is unaffected.
// Runs the built CLI (npm run build) in a project where ioredis is not installed.
describe('the CLI without ioredis installed', () => {
  const project = projectWithout(['ioredis']);
  afterAll(() => project.remove());

  const cli = (...args: string[]) => `process.argv.push('lix-cache-server', ${args.map((a) => JSON.stringify(a)).join(', ')}); await import('./node_modules/lix-cache-server/dist/cli.js');`;

  it('--store redis:// exits 1 naming the package to install', async () => {
    const failure = await project.run(cli('--port', '0', '--store', 'redis://127.0.0.1:1'), 'module').then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      'lix-cache-server: could not start: The Redis store (--store redis://…) needs the "ioredis" package, which is not installed. Install it: npm install ioredis',
    );
  });

  it('--version still answers (nothing loads ioredis until a Redis store is opened)', async () => {
    expect(await project.run(cli('--version'), 'module')).toMatch(/^\d+\.\d+\.\d+/);
  });
});
