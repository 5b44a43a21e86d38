import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_CLI } from '../../../test/helpers/server-process';

// Every other server test runs through the bin (SERVER_CLI); this one covers an unbuilt package.
describe('bin/lix-cache-server.js', () => {
  const root = mkdtempSync(join(tmpdir(), 'lix-bin-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('without dist/ it says the package is not built and how to build it', () => {
    mkdirSync(join(root, 'bin'));
    const bin = join(root, 'bin', 'lix-cache-server.js');
    copyFileSync(SERVER_CLI, bin);
    const run = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${join(root, 'dist', 'cli.js')} is missing: the package has not been built.`);
    expect(run.stderr).toContain('run `npm install` (or `npm run build`)');
  });
});
