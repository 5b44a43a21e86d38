import { readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Directories held by engines of this process (a second engine would interleave its records with the first's). */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claim `dir` for this engine with a LOCK file holding our pid. A LOCK left
 * by a process that no longer runs (a crash, kill -9) is taken over.
 * Returns the release function.
 */
export function lockDir(dir: string): () => void {
  const real = realpathSync(dir);
  if (heldHere.has(real)) {
    throw new Error(`The data directory ${dir} is already used by another MemoryEngine in this process. Close that engine first, or give each engine its own directory.`);
  }
  const lockPath = join(real, 'LOCK');
  let holder: number | undefined;
  try {
    holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
  } catch {
    // no LOCK file: free
  }
  if (holder !== undefined && Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
    throw new Error(`The data directory ${dir} is in use by process ${holder} (see ${lockPath}). Stop that process, or use another directory; two engines writing one log would corrupt it.`);
  }
  writeFileSync(lockPath, `${process.pid}\n`);
  heldHere.add(real);
  return () => {
    heldHere.delete(real);
    try {
      unlinkSync(lockPath);
    } catch {
      // already gone: nothing to release
    }
  };
}
