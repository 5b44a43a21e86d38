import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave } from '../lib/stats';

/** The checkout measured: this one, or LIX_BENCH_ROOT (e.g. a worktree of an older commit, built). */
const ROOT = process.env.LIX_BENCH_ROOT ?? fileURLToPath(new URL('../..', import.meta.url));

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

/** Wall-clock ms of one fresh `node` that imports `entry` (nothing: the baseline). */
function nodeMs(entry: string | undefined): number {
  const script = entry === undefined ? '' : `await import(${JSON.stringify(entry)});`;
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`node -e "${script}" failed in ${ROOT}: ${child.stderr}`);
  return ms;
}

/** Whether `entry` resolves in ROOT (an older checkout lacks the subpath entries). */
function resolves(entry: string): boolean {
  return spawnSync(process.execPath, ['--input-type=module', '-e', `import.meta.resolve(${JSON.stringify(entry)})`], { cwd: ROOT }).status === 0;
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

/**
 * Cold import time of each package entry (fresh processes, minus an empty `node`),
 * and what installing each package brings: `npm pack`, then `npm install --omit=dev`
 * of the tarballs into an empty project.
 */
export async function imports(settings: BenchSettings): Promise<Section> {
  const entries = ENTRIES.filter(resolves);
  const runs = settings.quick ? 10 : 20;
  const systems = [undefined, ...entries].map((entry) => ({ name: entry ?? 'baseline', measure: async () => ({ ms: nodeMs(entry) }) }));
  const medians = await interleave(systems, runs);
  const baseline = medians.get('baseline')!.ms;

  const work = mkdtempSync(join(tmpdir(), 'lix-footprint-'));
  const installs = new Map<string, { packages: number; bytes: number }>();
  try {
    const tarballs = Object.fromEntries(
      ['core', 'sdk', 'server', 'session'].map((name) => {
        const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: join(ROOT, 'packages', name), encoding: 'utf8' });
        return [name, join(work, out.trim().split('\n').pop()!)];
      }),
    );
    for (const [pkg, needs] of Object.entries(PACKAGES)) {
      const project = join(work, pkg);
      rmSync(project, { recursive: true, force: true });
      execFileSync('mkdir', ['-p', project]);
      writeFileSync(join(project, 'package.json'), '{"name":"footprint","private":true}');
      execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--silent', ...needs.map((n) => tarballs[n]!)], { cwd: project, stdio: 'ignore' });
      installs.set(pkg, footprint(join(project, 'node_modules')));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  return {
    title: 'Import time and install footprint',
    header: ['entry', 'cold import (ms)', 'packages installed', 'node_modules (MB)'],
    rows: ENTRIES.map((entry) => {
      const measured = medians.get(entry);
      const install = installs.get(entry);
      return [
        `\`${entry}\``,
        measured ? formatNumber(measured.ms - baseline, 0) : 'no such entry',
        install ? String(install.packages) : '',
        install ? formatNumber(install.bytes / 1e6, 1) : '',
      ];
    }),
    notes: [
      `Cold import: median of ${runs} fresh \`node --input-type=module -e "await import(…)"\` processes per entry, interleaved, minus the median of an empty one (${formatNumber(baseline, 0)} ms).`,
      'Install: `npm pack` of each workspace package, then `npm install --omit=dev` of the package (and the workspace packages it depends on) into an empty project; every package in node_modules counted, bytes of its files summed. Optional peers (ioredis, express-session) are not installed.',
    ],
  };
}
