import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

// `npm run docs` (TypeDoc) with its validation and treatWarningsAsErrors: a broken
// {@link}, or a public type that refers to one not exported, fails this test.
const out = mkdtempSync(join(tmpdir(), 'lix-api-reference-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const root = new URL('..', import.meta.url).pathname;
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

/** Every import path the packages publish ("exports" keys), e.g. lix-cache-core/memory. */
const publicEntries = ['core', 'sdk', 'server', 'session'].flatMap((dir) => {
  const { name, exports } = readJson(`packages/${dir}/package.json`) as { name: string; exports: Record<string, unknown> };
  return Object.keys(exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? name : `${name}/${key.slice(2)}`));
});

test('tsconfig "paths" (the source map of tests, type checks and TypeDoc) lists every public entry', () => {
  expect(Object.keys(readJson('tsconfig.base.json').compilerOptions.paths).sort()).toEqual(publicEntries.sort());
});

test('the API reference builds without a warning, one module per public entry', async () => {
  await promisify(execFile)(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: root });
  expect(readdirSync(join(out, 'modules')).sort()).toEqual(publicEntries.map((entry) => `${entry.replace('/', '_')}.html`).sort());
}, 120_000); // about 8 s alone; the full suite runs beside it
