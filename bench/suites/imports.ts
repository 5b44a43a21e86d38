import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave } from '../lib/stats';

/** This checkout, and LIX_BENCH_COMPARE: another one (e.g. a built worktree of an older commit) measured in the same interleaved rounds. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPARE = process.env.LIX_BENCH_COMPARE;

const ENTRIES = [
  'lix-cache-core',
  'lix-cache-core/memory',
  'lix-cache-core/redis',
  'lix-cache-sdk',
  'lix-cache-server',
  'lix-cache-session',
  'lix-cache-session/express-session',
];

/** Package folder → the workspace packages its install needs (they are not on the registry: installed from their tarballs). */
const PACKAGES: Record<string, string[]> = {
  'lix-cache-core': ['core'],
  'lix-cache-sdk': ['core', 'sdk'],
  'lix-cache-server': ['core', 'server'],
  'lix-cache-session': ['core', 'sdk', 'session'],
};

/** Wall-clock ms of one fresh `node` in `root` that imports `entry` (nothing: the baseline). */
function nodeMs(root: string, entry: string | undefined): number {
  const script = entry === undefined ? '' : `await import(${JSON.stringify(entry)});`;
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`node -e "${script}" failed in ${root}: ${child.stderr}`);
  return ms;
}

/** Whether `entry` resolves in `root` (an older checkout lacks the subpath entries). */
function resolves(root: string, entry: string): boolean {
  return spawnSync(process.execPath, ['--input-type=module', '-e', `import.meta.resolve(${JSON.stringify(entry)})`], { cwd: root }).status === 0;
}

/** Packages (folders with a package.json) and bytes under a node_modules folder. */
function footprint(dir: string): { packages: number; bytes: number } {
  let packages = 0;
  let bytes = 0;
  const walk = (path: string, inNodeModules: boolean) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        if (inNodeModules && !entry.name.startsWith('@') && !entry.name.startsWith('.') && existsSync(join(full, 'package.json'))) packages++;
        walk(full, entry.name === 'node_modules' || (inNodeModules && entry.name.startsWith('@')));
      } else {
        bytes += statSync(full).size;
      }
    }
  };
  walk(dir, true);
  return { packages, bytes };
}

/** For each package: packages and bytes that `npm install --omit=dev` of its tarball (and of the workspace packages it needs) brings. */
function installs(root: string): Map<string, { packages: number; bytes: number }> {
  const work = mkdtempSync(join(tmpdir(), 'lix-footprint-'));
  const sizes = new Map<string, { packages: number; bytes: number }>();
  try {
    const tarballs = Object.fromEntries(
      ['core', 'sdk', 'server', 'session'].map((name) => {
        const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: join(root, 'packages', name), encoding: 'utf8' });
        return [name, join(work, out.trim().split('\n').pop()!)];
      }),
    );
    for (const [pkg, needs] of Object.entries(PACKAGES)) {
      const project = join(work, pkg);
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), '{"name":"footprint","private":true}');
      execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--silent', ...needs.map((n) => tarballs[n]!)], { cwd: project, stdio: 'ignore' });
      sizes.set(pkg, footprint(join(project, 'node_modules')));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return sizes;
}

/**
 * Cold import time of each package entry (fresh processes, minus an empty `node`),
 * and what installing each package brings: `npm pack`, then `npm install --omit=dev`
 * of the tarballs into an empty project.
 */
export async function imports(settings: BenchSettings): Promise<Section> {
  const roots = COMPARE ? [ROOT, COMPARE] : [ROOT];
  const runs = settings.quick ? 10 : 20;
  const systems = roots.flatMap((root) =>
    [undefined, ...ENTRIES.filter((entry) => resolves(root, entry))].map((entry) => ({
      name: `${root} ${entry ?? 'baseline'}`,
      measure: async () => ({ ms: nodeMs(root, entry) }),
    })),
  );
  const medians = await interleave(systems, runs);
  const importMs = (root: string, entry: string) => {
    const measured = medians.get(`${root} ${entry}`);
    return measured ? formatNumber(measured.ms - medians.get(`${root} baseline`)!.ms, 0) : 'no such entry';
  };
  // Packing and installing takes a minute or two: full runs only.
  const sizes = settings.quick ? roots.map(() => new Map<string, { packages: number; bytes: number }>()) : roots.map(installs);
  const install = (entry: string, format: (size: { packages: number; bytes: number }) => string) =>
    sizes.map((size) => (size.has(entry) ? format(size.get(entry)!) : ''));
  const compared = (label: string) => (COMPARE ? [label, `${label}, ${COMPARE}`] : [label]);

  return {
    title: 'Import time and install footprint',
    header: ['entry', ...compared('cold import (ms)'), ...compared('packages installed'), ...compared('node_modules (MB)')],
    rows: ENTRIES.map((entry) => [
      `\`${entry}\``,
      ...roots.map((root) => importMs(root, entry)),
      ...install(entry, (size) => String(size.packages)),
      ...install(entry, (size) => formatNumber(size.bytes / 1e6, 1)),
    ]),
    notes: [
      `Cold import: median of ${runs} fresh \`node --input-type=module -e "await import(…)"\` processes per entry, interleaved, minus the median of an empty one (${roots.map((root) => `${formatNumber(medians.get(`${root} baseline`)!.ms, 0)} ms`).join(', ')}).`,
      `Install${settings.quick ? ' (not measured with --quick)' : ''}: \`npm pack\` of each workspace package, then \`npm install --omit=dev\` of the package (and the workspace packages it depends on) into an empty project; every package in node_modules counted, bytes of its files summed. Optional peers (ioredis, express-session) are not installed.`,
    ],
  };
}
