import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real, tiny filesystem (a tmpfs of `sizeBytes`) to make disk writes fail for real:
 * `fill()` takes every free byte, so the next write gets ENOSPC from the kernel, and
 * `free()` gives the space back. Mounting needs root (CAP_SYS_ADMIN), as in CI; without
 * it this throws saying so, rather than letting the test pass untested.
 *
 * ```ts
 * const fs = mountSmallFilesystem(1024 * 1024);
 * try { fs.fill(); ...; fs.free(); } finally { fs.unmount(); }
 * ```
 */
export interface SmallFilesystem {
  /** The mount point. */
  dir: string;
  /** Write a filler file until the filesystem is full. */
  fill(): void;
  /** Delete the filler file. */
  free(): void;
  /** Unmount and remove the mount point. */
  unmount(): void;
}

export function mountSmallFilesystem(sizeBytes: number): SmallFilesystem {
  const dir = mkdtempSync(join(tmpdir(), 'lix-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(
      `This test needs a tiny filesystem to fill up, and mounting a tmpfs failed (${detail}). Run the tests as root with CAP_SYS_ADMIN (CI does; in a container: --privileged or --cap-add SYS_ADMIN).`,
    );
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096);
      try {
        // Bounded: the filesystem holds sizeBytes; then the smallest writes until not a byte is left.
        for (let size = chunk.length; size >= 1; ) {
          try {
            writeSync(fd, chunk, 0, size);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            size = size >> 1;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      unlinkSync(filler);
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
