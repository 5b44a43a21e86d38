import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, writeSync } from 'node:fs';

/**
 * When the log reaches the disk:
 * - `always`: every write is fsynced before it is acknowledged (one fsync per
 *   event-loop turn covers all writes of that turn: group commit);
 * - `everysec`: written each turn, fsynced once a second in the background;
 *   a machine crash loses at most the last second, a process crash nothing
 *   that was written;
 * - `no`: written each turn, fsynced only when the engine closes (the OS decides).
 */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

export const FSYNC_POLICIES: readonly FsyncPolicy[] = ['always', 'everysec', 'no'];

/** Buffered bytes that are written at once rather than at the end of the event-loop turn. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The writing end of one log file. Records are buffered and written once
 * per event-loop turn (setImmediate) with synchronous writes: the page cache
 * absorbs them in microseconds, and a record is never reordered or half
 * written by an interleaving. A failed write truncates the file back to its
 * last whole record and keeps the records for the next attempt.
 */
export class AppendOnlyLog {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private waiters: Waiter[] = [];
  private unsynced = false;
  private backgroundSync: Promise<void> | undefined;
  private readonly syncTimer: ReturnType<typeof setInterval> | undefined;
  /** The last write or fsync error, cleared by the next success. */
  failure: Error | undefined;

  constructor(
    private fd: number,
    /** Bytes in the file (all whole records). */
    public size: number,
    private readonly policy: FsyncPolicy,
    private readonly onError: (error: Error) => void,
  ) {
    if (policy === 'everysec') {
      this.syncTimer = setInterval(() => this.syncInBackground(), 1000);
      this.syncTimer.unref();
    }
  }

  /** Bytes appended but not yet written. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  append(frame: Buffer): void {
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    // A caller that never yields to the event loop would otherwise buffer without bound.
    if (this.pendingBytes >= MAX_BUFFERED_BYTES) this.flush(this.policy === 'always');
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTurn);
    }
  }

  /** Resolves once everything appended so far is written and, under `always`, fsynced. */
  durable(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushTurn);
      }
    });
  }

  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    this.flush(this.policy === 'always');
  };

  /** Write what is buffered (and fsync it when `sync`), then settle the waiters. Returns whether it all succeeded. */
  flush(sync: boolean): boolean {
    const waiters = this.waiters;
    this.waiters = [];
    try {
      if (this.pendingBytes > 0) {
        const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
        this.writeAll(data);
        this.pending = [];
        this.pendingBytes = 0;
        this.unsynced = true;
      }
      if (sync && this.unsynced) {
        fdatasyncSync(this.fd);
        this.unsynced = false;
      }
      this.failure = undefined;
      for (const waiter of waiters) waiter.resolve();
      return true;
    } catch (error) {
      this.fail(error as Error);
      for (const waiter of waiters) waiter.reject(this.failure!);
      return false;
    }
  }

  private writeAll(data: Buffer): void {
    let written = 0;
    try {
      while (written < data.length) written += writeSync(this.fd, data, written, data.length - written, this.size + written);
    } catch (error) {
      // Cut a partly written record off again, so the file stays whole records only.
      if (written > 0) ftruncateSync(this.fd, this.size);
      throw error;
    }
    this.size += data.length;
  }

  private syncInBackground(): void {
    if (!this.unsynced || this.backgroundSync !== undefined) return;
    this.unsynced = false;
    const fd = this.fd;
    this.backgroundSync = new Promise<void>((resolve) => {
      fdatasync(fd, (error) => {
        this.backgroundSync = undefined;
        if (error) {
          this.unsynced = true;
          this.fail(error);
        }
        resolve();
      });
    });
  }

  private fail(error: Error): void {
    this.failure = new Error(`Writing the append-only log failed: ${error.message}. Writes are kept in memory and retried; free disk space or fix the data directory's permissions.`, { cause: error });
    this.onError(this.failure);
  }

  /**
   * Write and fsync everything, then continue in `nextFd` (a new, empty log
   * file with its header written). The old file is closed once no background
   * fsync is using it. Synchronous, so no record can land between the two files.
   */
  switchTo(nextFd: number, nextSize: number): void {
    if (!this.flush(true)) throw this.failure!;
    const old = this.fd;
    this.fd = nextFd;
    this.size = nextSize;
    this.closeWhenIdle(old);
  }

  /** Flush, fsync and close the file; the log cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    const ok = this.flush(true);
    await this.backgroundSync;
    closeSync(this.fd);
    if (!ok) throw this.failure!;
  }

  private closeWhenIdle(fd: number): void {
    if (this.backgroundSync === undefined) closeSync(fd);
    else void this.backgroundSync.then(() => closeSync(fd));
  }
}
