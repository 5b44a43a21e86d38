import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

/**
 * A project where `missing` are not installed: a temp folder whose node_modules links
 * every package of the workspace's node_modules but those. Node runs with
 * --preserve-symlinks so that it resolves from the links, never from the workspace,
 * which has every package.
 */
export function projectWithout(missing: readonly string[]): { dir: string; run: (script: string, type: 'module' | 'commonjs') => Promise<string>; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lix-without-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(ROOT_MODULES)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      mkdirSync(join(modules, name));
      for (const scoped of readdirSync(join(ROOT_MODULES, name))) {
        if (!missing.includes(`${name}/${scoped}`)) symlinkSync(realpathSync(join(ROOT_MODULES, name, scoped)), join(modules, name, scoped));
      }
    } else if (!missing.includes(name)) {
      symlinkSync(realpathSync(join(ROOT_MODULES, name)), join(modules, name));
    }
  }
  const exec = promisify(execFile);
  return {
    dir,
    /** Runs `script` in a fresh node (the built dist/ of the packages); resolves to its stdout, trimmed. */
    run: async (script, type) =>
      (await exec(process.execPath, ['--preserve-symlinks', `--input-type=${type}`, '-e', script], { cwd: dir })).stdout.trim(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
