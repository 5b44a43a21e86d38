import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

// `npm run docs` (TypeDoc) with its validation and treatWarningsAsErrors: a broken
// {@link}, or a public type that refers to one not exported, fails this test.
const out = mkdtempSync(join(tmpdir(), 'lix-api-reference-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('the API reference builds without a warning, one module per public entry', async () => {
  const root = new URL('..', import.meta.url).pathname;
  await promisify(execFile)(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: root });
  expect(readdirSync(join(out, 'modules')).sort()).toEqual([
    'lix-cache-core.html',
    'lix-cache-sdk.html',
    'lix-cache-server.html',
    'lix-cache-session.html',
    'lix-cache-session_express-session.html',
  ]);
}, 120_000); // about 8 s alone; the full suite runs beside it
