import { closeSync, linkSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Directories held by engines of this process (a second engine would interleave its records with the first's). */
const heldHere = new Set<string>();

/** This boot's id: a pid and start time seen before a reboot say nothing about a process now. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); '' where /proc is missing or the pid is gone. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds a lock: pid, its start time and the boot id (the last two empty where /proc is missing). */
function identity(pid: number): string {
  return `${pid} ${startTime(pid)} ${bootId()}`;
}

/**
 * Whether the holder a LOCK names still runs. A pid alone could have been reused by another
 * process since a crash, so its start time and the boot id must match too. A LOCK without them
 * (older versions, or no /proc) counts as held while its pid is alive.
 */
function held(content: string): boolean {
  const [pidText = '', start, boot] = content.trim().split(' ');
  const pid = Number.parseInt(pidText, 10);
  // Our own pid: an engine of this process that was never closed (heldHere guards live ones).
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  if (boot !== undefined && boot !== '' && boot !== bootId()) return false;
  if (!alive(pid)) return false;
  if (start === undefined || start === '') return true;
  return startTime(pid) === start;
}

/** Create `path` empty, only if it does not exist (O_EXCL: of two creators exactly one succeeds). */
function createExclusive(path: string): boolean {
  try {
    closeSync(openSync(path, 'wx'));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Put the complete file `from` in place as `to`, only if `to` does not exist: a hard link is
 * atomic and exclusive, so nobody ever reads a LOCK half written. Where hard links are not
 * supported, O_EXCL create then write (a reader waits for the closing newline).
 */
function placeExclusive(from: string, to: string, content: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw error;
  }
  let fd: number;
  try {
    fd = openSync(to, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Sleep synchronously (the constructor that locks is synchronous); only while a LOCK is being written. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** A stale holder's claim marker: `LOCK.stale-` plus the holder's identity, safe as a file name. */
function claimName(content: string): string {
  return `LOCK.stale-${content.trim().replace(/[^0-9A-Za-z-]+/g, '_').slice(0, 120)}`;
}

/**
 * Claim `dir` for this engine with a LOCK file holding our pid, start time and boot id,
 * put in place whole and exclusively (a hard link, else O_EXCL) so two starters never both
 * get it, nor read it half written. A LOCK whose holder no longer runs
 * (a crash, kill -9, a reboot, its pid reused by another process) is taken over: the starters
 * race to create a claim marker named after that stale holder (O_EXCL again, so exactly one
 * wins), and the winner, having checked the LOCK still names that holder, replaces it by a
 * rename. Returns the release function.
 */
export function lockDir(dir: string): () => void {
  const real = realpathSync(dir);
  if (heldHere.has(real)) {
    throw new Error(`The data directory ${dir} is already used by another MemoryEngine in this process. Close that engine first, or give each engine its own directory.`);
  }
  const lockPath = join(real, 'LOCK');
  const keepsChanging = () => new Error(`The data directory ${dir}'s LOCK keeps changing. Another process is starting on it; use another directory.`);
  const mine = `${identity(process.pid)}\n`;
  // Our pid names the temp file: no other live process writes it.
  const temp = join(real, `LOCK.${process.pid}.tmp`);
  writeFileSync(temp, mine);
  let claim: string | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      if (placeExclusive(temp, lockPath, mine)) break;
      let current = readLock(lockPath);
      // Every LOCK ends with a newline: without it, its writer is still writing (no hard links here).
      for (let wait = 0; current !== undefined && !current.endsWith('\n') && wait < 150; wait++) {
        pause(20);
        current = readLock(lockPath);
      }
      if (current === undefined) {
        // Released meanwhile: try again.
        if (attempt < 3) continue;
        throw keepsChanging();
      }
      if (held(current)) {
        const pid = current.trim().split(' ')[0];
        throw new Error(`The data directory ${dir} is in use by process ${pid} (see ${lockPath}). Stop that process, or use another directory; two engines writing one log would corrupt it.`);
      }
      const marker = join(real, claimName(current));
      if (!createExclusive(marker)) {
        // Another starter is taking this stale lock over: it holds the directory now.
        throw new Error(`The data directory ${dir} is being taken over by another process (see ${marker}). Use another directory for this one.`);
      }
      // Only the marker's creator gets here for this holder, and nothing else replaces an existing LOCK.
      if (readLock(lockPath) !== current) {
        removeQuietly(marker);
        if (attempt < 3) continue;
        throw keepsChanging();
      }
      renameSync(temp, lockPath);
      claim = marker;
      break;
    }
  } finally {
    removeQuietly(temp);
  }
  // Markers of holders taken over before (by processes that crashed since) name no current LOCK: drop them.
  for (const name of readdirSync(real)) if (name.startsWith('LOCK.stale-') && join(real, name) !== claim) removeQuietly(join(real, name));
  heldHere.add(real);
  return () => {
    heldHere.delete(real);
    if (readLock(lockPath) === mine) removeQuietly(lockPath);
    if (claim !== undefined) removeQuietly(claim);
  };
}
