import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, writeSync } from 'node:fs';
import type { FsyncPolicy } from './fsync-policy';

/** How often a failed log is retried. */
const RETRY_MS = 200;

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
  private retryTimer: ReturnType<typeof setInterval> | undefined;
  /** An fsync failed: the next flush must fsync again before the log counts as healthy (a later write alone proves nothing). */
  private syncFailed = false;
  private closed = false;
  /** The last write or fsync error, cleared once everything is written (and fsynced, if an fsync had failed). */
  failure: Error | undefined;
  /** Epoch ms of the first failure of the current outage; 0 while the log is healthy. */
  failingSince = 0;

  constructor(
    private fd: number,
    /** The file's path, for messages. */
    public path: string,
    /** Bytes in the file (all whole records). */
    public size: number,
    private readonly policy: FsyncPolicy,
    /** Called once when the log starts failing (not on every retry). */
    private readonly onError: (error: Error) => void,
    /** Called when a failing log was written (and fsynced) again, with how long it failed. */
    private readonly onRecover: (failedMs: number) => void = () => undefined,
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
      if ((sync || this.syncFailed) && this.unsynced) {
        fdatasyncSync(this.fd);
        this.unsynced = false;
        this.syncFailed = false;
      }
      if (this.failure !== undefined && !this.syncFailed) this.recovered();
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
          this.syncFailed = true;
          this.fail(error);
        }
        resolve();
      });
    });
  }

  private fail(error: Error): void {
    if ((error as NodeJS.ErrnoException).syscall === 'fdatasync') this.syncFailed = true;
    this.failure = new Error(
      `Writing the append-only log ${this.path} failed: ${error.message}. Writes are kept in memory and retried every ${RETRY_MS} ms; free disk space or fix the data directory (permissions, the disk).`,
      { cause: error },
    );
    if (this.failingSince !== 0) return;
    this.failingSince = Date.now();
    this.onError(this.failure);
    // Retried on a timer, not only by the next write: nothing else writes while writes are refused.
    if (!this.closed) {
      this.retryTimer = setInterval(() => this.flush(true), RETRY_MS);
      this.retryTimer.unref();
    }
  }

  private recovered(): void {
    const failedMs = Date.now() - this.failingSince;
    this.failure = undefined;
    this.failingSince = 0;
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.onRecover(failedMs);
  }

  /**
   * Write and fsync everything, then continue in `nextFd` (a new, empty log
   * file with its header written). The old file is closed once no background
   * fsync is using it. Synchronous, so no record can land between the two files.
   */
  switchTo(nextFd: number, nextSize: number, nextPath: string): void {
    if (!this.flush(true)) throw this.failure!;
    const old = this.fd;
    this.fd = nextFd;
    this.size = nextSize;
    this.path = nextPath;
    this.closeWhenIdle(old);
  }

  /** Flush, fsync and close the file; the log cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.closed = true;
    clearInterval(this.retryTimer);
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
