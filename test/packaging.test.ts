import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What users install is the tarball `npm pack` makes from the built dist/ (root `npm test` builds
// first): lint each one with publint and check the libraries' types with Are the Types Wrong.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const ATTW = join(ROOT, 'node_modules/.bin/attw');
const PACKAGES = ['core', 'sdk', 'cli', 'server', 'session'];
/** Command lines only: a bin and the dist/cli.js it runs, no library entry, so no types for attw to check. */
const BIN_ONLY = new Set(['cli']);
const LIBRARIES = PACKAGES.filter((name) => !BIN_ONLY.has(name));

// Kept on purpose: the sdk's object `browser` field sends bundlers that predate "exports"
// (webpack 4, browserify) to dist/browser.js; the "browser" export condition serves the rest.
const ACCEPTED_PUBLINT = ['sdk: pkg.browser with an object value can be refactored to use pkg.exports/pkg.imports and the "browser" condition to declare browser-specific exports. (This may be a breaking change)'];

// attw's "node16" profile: Node's own resolution from CJS and from ESM, and bundlers. Plain
// `node10` resolution (TypeScript's moduleResolution "node") cannot see "exports" subpaths.
const RESOLUTIONS = new Set(['node16-cjs', 'node16-esm', 'bundler']);

interface PackResult {
  filename: string;
  name: string;
  files: { path: string }[];
}

interface AttwAnalysis {
  entrypoints: Record<string, unknown>;
  problems: { kind: string; entrypoint?: string; resolutionKind?: string }[];
}

const dir = mkdtempSync(join(tmpdir(), 'lix-pack-'));
const packed = new Map<string, PackResult>();
const typeChecks = new Map<string, AttwAnalysis>();

async function attw(name: string): Promise<AttwAnalysis> {
  const { stdout } = await run(process.execPath, [ATTW, join(dir, packed.get(name)!.filename), '--profile', 'node16', '--format', 'json'], { cwd: dir });
  return (JSON.parse(stdout) as { analysis: AttwAnalysis }).analysis;
}

beforeAll(async () => {
  const workspaces = PACKAGES.flatMap((name) => ['--workspace', `packages/${name}`]);
  // --ignore-scripts: pack the dist/ that is already built rather than building again.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir, ...workspaces], { cwd: ROOT });
  for (const result of JSON.parse(stdout) as PackResult[]) packed.set(result.name.replace(/^lix-cache-/, ''), result);
  // attw spends its time loading TypeScript: the four run side by side.
  for (const [name, analysis] of await Promise.all(LIBRARIES.map(async (name) => [name, await attw(name)] as const))) typeChecks.set(name, analysis);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(PACKAGES)('the packed lix-cache-%s', (name) => {
  it('holds its license, readme, manifest and built files only (no sources, no source maps)', () => {
    const files = packed.get(name)!.files.map((file) => file.path);
    const built = BIN_ONLY.has(name) ? ['dist/cli.js'] : ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'];
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', ...built]));
    expect(files.filter((file) => !/^(LICENSE|README\.md|package\.json|dist\/[\w.-]+\.(js|cjs|d\.ts|d\.cts)|bin\/[\w.-]+\.js|dist\/dashboard\/(index\.html|assets\/[\w.-]+\.(js|css)))$/.test(file))).toEqual([]);
  });

  it('passes publint (strict, suggestions included)', async () => {
    const data = readFileSync(join(dir, packed.get(name)!.filename));
    const { messages, pkg } = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }, level: 'suggestion', strict: true });
    const found = messages.map((message) => `${name}: ${formatMessage(message, pkg, { color: false })}`);
    expect(found.filter((text) => !ACCEPTED_PUBLINT.includes(text))).toEqual([]);
  });
});

describe.each(LIBRARIES)('the types of the packed lix-cache-%s', (name) => {
  it('has types that are right for Node (ESM and CJS) and bundlers (attw)', () => {
    const analysis = typeChecks.get(name)!;
    expect(Object.keys(analysis.entrypoints)).toContain('.');
    expect(analysis.problems.filter((problem) => !problem.resolutionKind || RESOLUTIONS.has(problem.resolutionKind))).toEqual([]);
  });
});

it('the server ships its dashboard built: the page, one script, one stylesheet', () => {
  const files = packed.get('server')!.files.map((file) => file.path).filter((file) => file.startsWith('dist/dashboard/'));
  expect(files).toContain('dist/dashboard/index.html');
  expect(files.filter((file) => file.endsWith('.js'))).toHaveLength(1);
  expect(files.filter((file) => file.endsWith('.css'))).toHaveLength(1);
});

it('the server has no unused build outputs: the CLI is ESM only', () => {
  expect(packed.get('server')!.files.map((file) => file.path)).not.toContain('dist/cli.cjs');
});

it('lix-cache-cli is a command line only: its bin is the committed wrapper, which runs the packed dist/cli.js', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as Record<string, unknown>;
  expect(manifest.bin).toEqual({ 'lix-cache': './bin/lix-cache.js' });
  for (const field of ['main', 'module', 'types', 'exports']) expect(manifest, field).not.toHaveProperty(field);
  expect(packed.get('cli')!.files.map((file) => file.path).sort()).toEqual(['LICENSE', 'README.md', 'bin/lix-cache.js', 'dist/cli.js', 'package.json']);
  expect(readFileSync(join(ROOT, 'packages/cli/bin/lix-cache.js'), 'utf8')).toContain("new URL('../dist/cli.js', import.meta.url)");
});
