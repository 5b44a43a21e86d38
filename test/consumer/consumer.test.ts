/*
 * The packages as a consumer gets them: `npm pack` core, sdk, server and session, install
 * the tarballs into a fresh project (one install, shared by every check), then type-check
 * the fixtures under strict settings for each module setup and run them against memory://,
 * a server started from the installed bin, and real HTTP. Packs dist/ as it is, so build
 * first: `npm run build && npx vitest run test/consumer`. Installs from the npm cache when it
 * can (`--prefer-offline`), else from the registry.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/cookie-jar';
import { startServer, type ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/wait-for';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const PACKAGES = ['core', 'sdk', 'server', 'session'];

/** One tsconfig the consumer project is checked with. */
interface Combo {
  name: string;
  module: string;
  moduleResolution: string;
  /** Fixture files, under esm/ (a "type": "module" folder) or cjs/ ("type": "commonjs"). */
  files: string[];
  /** `['node']` leaves @types/express-session out, as in an app that does not install it; absent: every @types package is in. */
  types?: string[];
  /** Emit JavaScript next to the sources, to run it. */
  emit?: boolean;
}

const COMBOS: Combo[] = [
  { name: 'node16-esm', module: 'node16', moduleResolution: 'node16', files: ['esm/sdk-client.ts', 'esm/express-app.ts', 'esm/hono-app.ts', 'esm/fastify-app.ts'], types: ['node'], emit: true },
  { name: 'node16-cjs', module: 'node16', moduleResolution: 'node16', files: ['cjs/sdk-client.ts', 'cjs/express-app.ts', 'cjs/hono-app.ts', 'cjs/fastify-app.ts'], types: ['node'], emit: true },
  { name: 'bundler', module: 'esnext', moduleResolution: 'bundler', files: ['esm/sdk-client.ts', 'esm/express-app.ts', 'esm/hono-app.ts', 'esm/fastify-app.ts'], types: ['node'] },
  // With @types/express-session installed alongside: the store's users, and the main entry next to express-session's req.session.
  { name: 'node10-express-session', module: 'commonjs', moduleResolution: 'node', files: ['cjs/express-session-app.ts'], emit: true },
  { name: 'node16-esm-and-cjs-express-session', module: 'node16', moduleResolution: 'node16', files: ['esm/express-session-app.ts', 'cjs/express-session-app.ts'] },
  { name: 'bundler-express-session', module: 'esnext', moduleResolution: 'bundler', files: ['esm/express-session-app.ts'] },
  // Every public entry (from the packed exports maps) must have types where "exports" is ignored.
  { name: 'node10-every-entry', module: 'commonjs', moduleResolution: 'node', files: ['cjs/entries.ts'], types: ['node'] },
];

let dir: string;
let app: string;
let installOutput: string;
let entries: string[];
let server: ServerProcess | undefined;
const children = new Set<ChildProcess>();

function fail(message: string): never {
  throw new Error(message);
}

/** The environment for npm and node children, without the npm_* variables of the npm that started vitest. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lix-consumer-'));
  const tarballs = join(dir, 'tarballs');
  await mkdir(tarballs);
  const packed = await run('npm', ['pack', '--json', '--pack-destination', tarballs, ...PACKAGES.map((name) => `./packages/${name}`)], { cwd: ROOT, env: cleanEnv() });
  const files = (JSON.parse(packed.stdout) as { name: string; filename: string }[]).map(({ name, filename }) => ({ name, file: join(tarballs, filename) }));

  const root = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  type Manifest = Partial<Record<'dependencies' | 'devDependencies' | 'peerDependencies', Record<string, string>>>;
  const session = JSON.parse(await readFile(join(ROOT, 'packages/session/package.json'), 'utf8')) as Manifest;
  // The versions this repository tests with (express-session: the session package's own).
  const pinned = (name: string) =>
    root.devDependencies[name] ?? session.devDependencies?.[name] ?? session.dependencies?.[name] ?? session.peerDependencies?.[name] ?? fail(`no version of ${name} in the root or session package.json`);
  const peers = ['express', 'express-session', 'fastify', 'hono', '@types/express', '@types/express-session', '@types/node', 'typescript'];
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'lix-consumer',
      private: true,
      dependencies: Object.fromEntries([...files.map(({ name, file }) => [name, `file:${file}`]), ...peers.map((name) => [name, pinned(name)])]),
    }),
  );
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn'], { cwd: app, env: cleanEnv(), maxBuffer: 16 << 20 });
  installOutput = install.stdout + install.stderr;

  // Every public subpath of every packed package, for the node10 check.
  entries = [];
  for (const { name } of files) {
    const manifest = JSON.parse(await readFile(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    for (const subpath of Object.keys(manifest.exports)) {
      if (subpath !== './package.json') entries.push(name + subpath.slice(1));
    }
  }

  for (const [folder, type] of [['esm', 'module'], ['cjs', 'commonjs']] as const) {
    await mkdir(join(app, folder));
    await writeFile(join(app, folder, 'package.json'), JSON.stringify({ type }));
    for (const file of await readdir(FIXTURES)) await copyFile(join(FIXTURES, file), join(app, folder, file));
  }
  await writeFile(join(app, 'cjs/entries.ts'), entries.map((entry, i) => `import * as entry${i} from '${entry}';\nexport { entry${i} };\n`).join(''));
  for (const combo of COMBOS) {
    const compilerOptions = {
      strict: true,
      skipLibCheck: false,
      esModuleInterop: true,
      target: 'es2022',
      module: combo.module,
      moduleResolution: combo.moduleResolution,
      ...(combo.types && { types: combo.types }),
      ...(!combo.emit && { noEmit: true }),
    };
    await writeFile(join(app, `tsconfig.${combo.name}.json`), JSON.stringify({ compilerOptions, files: combo.files }));
  }
  // Two tsc at a time (each is CPU-bound); the emitting ones write the JavaScript the runtime checks run.
  const lanes = [COMBOS.filter((_, i) => i % 2 === 0), COMBOS.filter((_, i) => i % 2 === 1)];
  await Promise.all(
    lanes.map(async (lane) => {
      for (const combo of lane) typechecked.set(combo.name, await typecheck(combo));
    }),
  );
}, 300_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What `tsc -p` printed for each combo: empty when it type-checks. */
const typechecked = new Map<string, string>();

function typecheck(combo: Combo): Promise<string> {
  const tsc = join(app, 'node_modules/typescript/bin/tsc');
  return run(process.execPath, [tsc, '-p', `tsconfig.${combo.name}.json`], { cwd: app, env: cleanEnv() }).then(
    () => '',
    (error: { stdout?: string; message: string }) => error.stdout || error.message,
  );
}

/** Run a compiled fixture to completion; resolves with its stdout (rejects with its output when it fails). */
async function runScript(file: string, args: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, [join(app, file), ...args], { cwd: app, env: cleanEnv(), timeout: 30_000 });
  return stdout;
}

/** Start a compiled fixture app that prints `{"port":N}`, and resolve with its base URL. */
async function startApp(file: string): Promise<string> {
  const child = spawn(process.execPath, [join(app, file)], { cwd: app, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const port = await waitFor(() => /"port":(\d+)/.exec(output)?.[1], { timeoutMs: 30_000, what: `${file} to listen (output: ${output})` });
  return `http://127.0.0.1:${port}`;
}

describe('a consumer project that installs the packed packages', () => {
  it('installs without warnings', () => {
    // On a Node below our declared minimum (engines), npm rightly warns EBADENGINE for our
    // packages, and then for dependencies that need a newer Node too: only that is allowed
    // there. On a supported Node, any warning (peer, engine, deprecation) fails.
    const warnings = installOutput.split('\n').filter((line) => /^npm warn/i.test(line));
    const unsupportedNode = warnings.some((line) => /EBADENGINE\s+package: 'lix-cache-/.test(line));
    expect(unsupportedNode ? warnings.filter((line) => !/^npm warn EBADENGINE/i.test(line)) : warnings).toEqual([]);
  });

  it('exposes each package entry the fixtures use', () => {
    expect(entries).toEqual(expect.arrayContaining(['lix-cache-sdk', 'lix-cache-server', 'lix-cache-session', 'lix-cache-session/express', 'lix-cache-session/express-session', 'lix-cache-session/fastify', 'lix-cache-session/hono', 'lix-cache-session/next']));
  });

  it.each(COMBOS.map((combo) => combo.name))('type-checks strictly (strict, skipLibCheck: false): %s', (name) => {
    expect(typechecked.get(name)).toBe('');
  });

  it.each(['esm', 'cjs'])('runs the SDK example (%s) against memory:// and a server started from the installed bin', async (folder) => {
    server ??= await startServer({ cli: join(app, 'node_modules/.bin/lix-cache-server'), timeoutMs: 30_000 });
    for (const url of ['memory://', server.url]) {
      const printed = JSON.parse(await runScript(`${folder}/sdk-client.js`, [url])) as Record<string, unknown>;
      expect(printed).toMatchObject({ name: 'Alice', age: 30, again: 'Alice', report: { rows: 3 }, badOptions: 'invalid_config' });
      expect(printed.visits).toBeGreaterThanOrEqual(1);
    }
  }, 90_000);

  it('the installed server serves its dashboard', async () => {
    server ??= await startServer({ cli: join(app, 'node_modules/.bin/lix-cache-server'), timeoutMs: 30_000 });
    const page = await fetch(`${server.url}/dashboard/`);
    expect(page.status).toBe(200);
    const script = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(await page.text())![1]!;
    expect((await fetch(`${server.url}${script}`)).status).toBe(200);
  }, 60_000);

  it.each(['esm', 'cjs'])('serves sessions with lixSession (%s) over HTTP', async (folder) => {
    const alice = new CookieClient(await startApp(`${folder}/express-app.js`));
    expect((await alice.get('/api/profile')).status).toBe(401);
    expect((await alice.post('/api/login', { username: 'alice' })).status).toBe(200);
    expect((await alice.get('/api/profile')).body).toEqual({ username: 'alice', theme: 'light' });
    expect((await alice.post('/api/theme')).status).toBe(200);
    expect((await alice.get('/api/profile')).body).toEqual({ username: 'alice', theme: 'dark' });
    expect((await alice.post('/api/logout')).status).toBe(200);
    expect((await alice.get('/api/profile')).status).toBe(401);
  }, 60_000);

  it.each(['esm', 'cjs'])('serves sessions with the Fastify plugin (%s) over HTTP', async (folder) => {
    const alice = new CookieClient(await startApp(`${folder}/fastify-app.js`));
    expect((await alice.get('/api/profile')).status).toBe(401);
    expect((await alice.post('/api/login', { username: 'alice' })).status).toBe(200);
    expect((await alice.get('/api/profile')).body).toEqual({ username: 'alice', theme: 'light' });
    expect((await alice.post('/api/theme', {}, { csrf: false })).status).toBe(403);
    expect((await alice.post('/api/theme', {})).status).toBe(200);
    expect((await alice.get('/api/profile')).body).toEqual({ username: 'alice', theme: 'dark' });
    expect((await alice.post('/api/logout', {})).status).toBe(200);
    expect((await alice.get('/api/profile')).status).toBe(401);
  }, 60_000);

  it.each(['esm', 'cjs'])('serves sessions with the Hono lixSession (%s) through app.fetch', async (folder) => {
    expect(JSON.parse(await runScript(`${folder}/hono-app.js`))).toEqual({ before: 401, profile: { username: 'alice', theme: 'dark' }, after: 401 });
  }, 60_000);

  it('keeps express-session sessions in LixSessionStore (compiled under moduleResolution node) over HTTP', async () => {
    const visitor = new CookieClient(await startApp('cjs/express-session-app.js'));
    expect((await visitor.get('/views')).body).toEqual({ views: 1 });
    expect((await visitor.get('/views')).body).toEqual({ views: 2 });
    expect((await new CookieClient(visitor.baseUrl).get('/views')).body).toEqual({ views: 1 });
  }, 60_000);
});
