import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * lix-cache-session/hono must run where Node's builtins do not exist (Workers, Deno Deploy,
 * the browser-like runtimes Hono serves). Build the package as it ships (its tsup config,
 * ESM, into a temporary folder), then let esbuild walk every static import from dist/hono.js:
 * our chunks, then the installed packages (lix-cache-sdk, lix-cache-core, cookie,
 * @noble/hashes, ipaddr.js) with the export conditions of each kind of runtime.
 */
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'lix-hono-graph-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

interface Walk {
  /** Node builtins imported statically (must stay empty). */
  builtins: string[];
  /** Specifiers of dynamic `import()`s met on the way (not followed). */
  dynamic: string[];
  /** Every file reached. */
  files: string[];
}

async function walk(conditions: string[]): Promise<Walk> {
  const builtins = new Set<string>();
  const dynamic = new Set<string>();
  const record: Plugin = {
    name: 'record-imports',
    setup(plugin) {
      plugin.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'dynamic-import') {
          dynamic.add(args.path);
          return { path: args.path, external: true };
        }
        if (BUILTINS.has(args.path) || args.path.startsWith('node:')) {
          builtins.add(`${args.path} (from ${args.importer.replace(PACKAGE, '')})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  const result = await build({
    entryPoints: [join(out, 'hono.js')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'neutral',
    format: 'esm',
    conditions,
    mainFields: ['module', 'main'],
    // The build sits in a temporary folder: resolve packages as from the package's own.
    nodePaths: [join(PACKAGE, 'node_modules'), join(PACKAGE, '../../node_modules')],
    // Resolve as Node does: no tsconfig "paths" (this repository maps the packages to their sources).
    tsconfigRaw: {},
    // hono is the app's own (a peer dependency), not part of what this entry brings along.
    external: ['hono', 'hono/*'],
    plugins: [record],
    logLevel: 'silent',
  });
  const inputs = Object.keys((result.metafile as Metafile).inputs);
  return { builtins: [...builtins].sort(), dynamic: [...dynamic].sort(), files: inputs };
}

beforeAll(async () => {
  // The real build (tsup.config.ts), ESM only and without declarations, into `out`.
  await promisify(execFile)(process.execPath, [join(PACKAGE, '../../node_modules/tsup/dist/cli-default.js'), '--out-dir', out, '--format', 'esm', '--no-dts', '--silent'], { cwd: PACKAGE });
}, 60_000);

describe('the lix-cache-session/hono entry', () => {
  it('reaches no Node builtin through its static imports where Workers and browsers resolve (workerd, worker, browser, import)', async () => {
    const graph = await walk(['workerd', 'worker', 'browser', 'import']);
    expect(graph.builtins).toEqual([]);
    // It did walk into the packages (lix-cache-sdk's browser build bundles its lix-cache-core parts).
    for (const dependency of ['packages/sdk/dist/browser.js', 'node_modules/cookie/', 'node_modules/@noble/hashes/', 'node_modules/ipaddr.js/']) {
      expect(graph.files.some((file) => file.includes(dependency))).toBe(true);
    }
    expect(graph.dynamic).toEqual([]);
  });

  it('reaches only node:crypto, in @noble/hashes, where Node, Deno and Bun resolve (node, import)', async () => {
    const graph = await walk(['node', 'import']);
    // @noble/hashes 1.x picks its Web Crypto source by the "node" export condition, and
    // lru-cache (the SDK's near cache) its diagnostics_channel tracing: a runtime that takes
    // that condition has both builtins. Our own code imports no builtin.
    expect(graph.builtins).toEqual([
      expect.stringMatching(/^node:crypto \(from .*node_modules\/@noble\/hashes\/esm\/cryptoNode\.js\)$/),
      expect.stringMatching(/^node:diagnostics_channel \(from .*node_modules\/lru-cache\/dist\/esm\/node\/.*\)$/),
    ]);
    for (const dependency of ['packages/sdk/dist/index.js', 'packages/core/dist/', 'node_modules/cookie/', 'node_modules/@noble/hashes/', 'node_modules/ipaddr.js/']) {
      expect(graph.files.some((file) => file.includes(dependency))).toBe(true);
    }
    // Loaded only for the URLs that need them: memory:// (lix-cache-core/memory persists with
    // node:fs) and redis:// (ioredis). A Lix server URL (http[s]://) needs neither.
    expect(graph.dynamic).toEqual(['lix-cache-core/memory', 'lix-cache-core/redis']);
  });

  it('leaves Node-only parts to process.getBuiltinModule: the cache client, and native SHA-256 where it exists', async () => {
    // lix-cache-sdk's Node build opens node:http / node:https through process.getBuiltinModule
    // (no static import), only when a client for an http(s):// URL is created; its browser
    // build uses fetch. The session tokens hash with node:crypto when the runtime has
    // process.getBuiltinModule, else with @noble/hashes. Nothing else asks for a builtin.
    const graph = await walk(['node', 'import']);
    const lookups = new Set<string>();
    for (const file of graph.files) {
      const text = readFileSync(file.startsWith('/') ? file : join(process.cwd(), file), 'utf8');
      for (const match of text.matchAll(/getBuiltinModule(?:\?\.)?\(\s*["'`]([^"'`]+)["'`]\s*\)/g)) lookups.add(match[1]!);
      expect(text).not.toMatch(/\brequire\(\s*["'`](node:)?(fs|http|https|net|crypto|path|os|child_process|zlib|stream|util)["'`]/);
    }
    expect([...lookups].sort()).toEqual(['node:crypto', 'node:http', 'node:https']);
  });
});
