import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import semver from 'semver';

// Our declared `engines.node` must be true: every Node version it admits must be
// admitted by every package that will be installed with it (per package-lock.json).

interface LockEntry {
  version?: string;
  link?: boolean;
  resolved?: string;
  engines?: { node?: string } | string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const root = new URL('../', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, LockEntry> };
const entries = lock.packages;
const PUBLISHED = ['packages/core', 'packages/sdk', 'packages/cli', 'packages/server', 'packages/session'];

function nodeRange(entry: LockEntry): string | undefined {
  return Array.isArray(entry.engines) ? undefined : entry.engines?.node;
}

/** Where Node would find `name` when required from the package at `location` (lockfile paths). */
function resolve(location: string, name: string): string | undefined {
  for (let dir = location; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules')))) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (entries[candidate]) {
      const entry = entries[candidate]!;
      return entry.link ? entry.resolved : candidate;
    }
    if (!dir) return undefined;
  }
}

/** Every package a user gets by installing the package at `location`: its runtime dependencies, transitively. */
function runtimeClosure(location: string): Set<string> {
  const seen = new Set<string>();
  const queue = [location];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    const entry = entries[next]!;
    const names = { ...entry.peerDependencies, ...entry.optionalDependencies, ...entry.dependencies };
    for (const name of Object.keys(names)) {
      const found = resolve(next, name);
      // An uninstalled optional dependency or peer (another platform's binary, express) is not in the lockfile.
      if (found) queue.push(found);
    }
  }
  return seen;
}

/**
 * Known and harmless: sharp's 32-bit Windows binary declares Node ^20.9 only. It comes with
 * next (an optional peer of lix-cache-session, and the Next.js example's framework) through
 * sharp, next's optional image optimizer; npm installs it on win32-ia32 only, and Next.js runs
 * without it (images are served unoptimised). Nothing of ours uses sharp.
 */
const KNOWN = new Set(['node_modules/@img/sharp-win32-ia32']);

/** The packages whose `engines.node` does not admit every version `declared` admits. */
function disagreeing(declared: string, locations: Iterable<string>): string[] {
  const out: string[] = [];
  for (const location of locations) {
    if (KNOWN.has(location)) continue;
    const theirs = nodeRange(entries[location]!);
    if (theirs && !semver.subset(declared, theirs)) out.push(`${location}@${entries[location]!.version}: engines.node ${theirs}`);
  }
  return out;
}

describe('engines.node', () => {
  const rootRange = nodeRange(entries['']!);

  it('the root declares a range that every installed package (dev tools included) admits', () => {
    expect(semver.validRange(rootRange)).toBeTruthy();
    expect(disagreeing(rootRange!, Object.keys(entries).filter((location) => location !== ''))).toEqual([]);
  });

  it.each(PUBLISHED)('%s declares a range that all of its runtime dependencies admit', (location) => {
    const declared = nodeRange(entries[location]!);
    expect(semver.validRange(declared)).toBeTruthy();
    const closure = runtimeClosure(location);
    expect(closure.size).toBeGreaterThan(1);
    expect(disagreeing(declared!, closure)).toEqual([]);
  });

  it('the root range is within every published package range (developing needs at least what running needs)', () => {
    for (const location of PUBLISHED) expect(semver.subset(rootRange!, nodeRange(entries[location]!)!), location).toBe(true);
  });

  it('the check itself catches a dependency that needs a newer Node than declared', () => {
    expect(disagreeing('>=20.19.0', runtimeClosure('packages/server'))).toContainEqual(expect.stringMatching(/cookie@2\.\d+\.\d+: engines\.node >=22/));
  });
});
