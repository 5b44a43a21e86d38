import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LixError } from '../commands/errors';
import { lixError } from '../commands/errors';
import type { Keyspace } from '../memory/keyspace';
import type { MutationJournal } from '../memory/mutation-journal';
import { AppendOnlyLog } from './append-only-log';
import type { FsyncPolicy } from './fsync-policy';
import { FSYNC_POLICIES } from './fsync-policy';
import { lockDir } from './dir-lock';
import type { BadFrame } from './frame-reader';
import { readFrames } from './frame-reader';
import type { LogRecord } from './record-codec';
import {
  MalformedRecord,
  RecordType,
  decodeRecord,
  encodeClear,
  encodeDelete,
  encodeExpire,
  encodePut,
  encodeSnapshotEnd,
  encodeSnapshotStart,
} from './record-codec';

/** Where persistence reports what it does: load results, dropped torn records, write errors. */
export type PersistenceLogger = (level: 'info' | 'warn' | 'error', message: string, details: Record<string, unknown>) => void;

/** Make a MemoryEngine durable: an append-only log of every change, compacted by periodic snapshots. */
export interface PersistenceOptions {
  /** Directory for the log and snapshot files; created if missing. One engine per directory (a LOCK file guards it). */
  dir: string;
  /**
   * When writes reach the disk, and what a crash can lose of the writes that were acknowledged.
   * `always`: each write is fsynced before it is acknowledged (one fsync per event-loop turn
   * covers all writes of that turn); nothing acknowledged is lost, by a killed process or a
   * machine crash. `everysec` (default): written to the file at the end of each event-loop turn,
   * after the reply may have gone out, and fsynced once a second: a killed process (kill -9) can
   * lose the writes acknowledged in the turn it died in (measured: 12 of 3,765 under load), a
   * machine crash or power loss about the last second. `no`: like `everysec` but fsynced only on
   * close: a machine crash loses whatever the OS had not written back (typically up to 30 s).
   * When the log cannot be written or fsynced, writes are refused with `persistence_failed`
   * (HTTP 503) under `always` at once, under `everysec` and `no` once it has failed for more
   * than a second; reads keep working, and writes are accepted again by themselves once the
   * log can be written (a snapshot then follows).
   */
  fsync?: FsyncPolicy;
  /** Take a snapshot (compacting the log) this often, when anything was written since the last one. Default 60000 ms; 0: never by time. */
  snapshotIntervalMs?: number;
  /** Also take a snapshot once the log outgrows this many bytes and the last snapshot. Default 64 MiB. */
  snapshotLogBytes?: number;
  /** Receives load results (info), dropped torn records (warn) and write failures (error). Default: warnings and errors to the console. */
  log?: PersistenceLogger;
}

/** What start-up loaded. */
export interface RestoreReport {
  dir: string;
  /** Live keys after loading. */
  keys: number;
  /** Keys read from the snapshot (before the log was replayed). */
  snapshotKeys: number;
  /** Log records replayed. */
  logRecords: number;
  /** Keys skipped because they expired while the engine was down. */
  expiredSkipped: number;
  /** Bytes of a torn last record (a write cut short by a crash) that were dropped. */
  droppedBytes: number;
  durationMs: number;
}

/** What a snapshot wrote. */
export interface SnapshotReport {
  keys: number;
  bytes: number;
  durationMs: number;
}

/** Start-up refused: a data file is damaged. Nothing was loaded and no file was changed. */
export class PersistenceError extends Error {
  override readonly name = 'PersistenceError';
}

type SnapshotStart = Extract<LogRecord, { type: typeof RecordType.snapshotStart }>;

const LOG_MAGIC = Buffer.from('LIXLOG1\n', 'latin1');
const SNAPSHOT_MAGIC = Buffer.from('LIXSNP1\n', 'latin1');
const SNAPSHOT = 'snapshot.lix';
const SNAPSHOT_TMP = 'snapshot.lix.tmp';
const LOG_NAME = /^log-(\d{8})\.lix$/;
const logName = (seq: number): string => `log-${String(seq).padStart(8, '0')}.lix`;
/** Keys per snapshot chunk; the event loop serves requests between chunks. */
const SNAPSHOT_CHUNK_KEYS = 2000;
const SNAPSHOT_CHUNK_BYTES = 4 * 1024 * 1024;
/** How long the log may fail under `everysec` and `no` before writes are refused: the window those policies may lose anyway. */
const FAILURE_WINDOW_MS = 1000;
/** Wait before a failed snapshot may be retried by log size. */
const RETRY_SNAPSHOT_MS = 10_000;
const fdatasyncAsync = promisify(fdatasync);

const defaultLogger: PersistenceLogger = (level, message) => {
  if (level === 'warn') console.warn(`lix-cache: ${message}`);
  else if (level === 'error') console.error(`lix-cache: ${message}`);
};

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write all of `data` at `position`; returns the bytes written. */
function writeFully(fd: number, data: Buffer, position: number): number {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written, position + written);
  return written;
}

/** Create an empty log file (header only), durable along with its directory entry. */
function createLog(dir: string, seq: number): number {
  const fd = openSync(join(dir, logName(seq)), 'wx');
  writeFully(fd, LOG_MAGIC, 0);
  fsyncSync(fd);
  fsyncDir(dir);
  return fd;
}

function checkOptions(options: PersistenceOptions): Required<Omit<PersistenceOptions, 'log'>> & { log: PersistenceLogger } {
  if (typeof options !== 'object' || options === null) throw new TypeError('MemoryEngine option "persistence" must be an object such as { dir: "./data" }.');
  if (typeof options.dir !== 'string' || options.dir.length === 0) throw new TypeError('persistence.dir must name a directory, e.g. { dir: "./data" }.');
  const fsync = options.fsync ?? 'everysec';
  if (!FSYNC_POLICIES.includes(fsync)) throw new TypeError(`persistence.fsync must be one of ${FSYNC_POLICIES.join(', ')}; got ${String(fsync)}.`);
  const interval = options.snapshotIntervalMs ?? 60_000;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 0) {
    throw new TypeError(`persistence.snapshotIntervalMs must be a whole number of ms ≥ 0 (0: never by time); got ${String(interval)}.`);
  }
  const logBytes = options.snapshotLogBytes ?? 64 * 1024 * 1024;
  if (typeof logBytes !== 'number' || !Number.isInteger(logBytes) || logBytes < 1) {
    throw new TypeError(`persistence.snapshotLogBytes must be a whole number of bytes ≥ 1; got ${String(logBytes)}.`);
  }
  if (options.log !== undefined && typeof options.log !== 'function') throw new TypeError('persistence.log must be a function (level, message, details).');
  return { dir: options.dir, fsync, snapshotIntervalMs: interval, snapshotLogBytes: logBytes, log: options.log ?? defaultLogger };
}

function damaged(file: string, bad: BadFrame, isLog: boolean): PersistenceError {
  const cause = bad.intactAfter ? ' Intact records follow it, so this is damage, not a write cut short by a crash.' : '';
  const keep = isLog ? ` To keep the records before the damage, truncate the file to ${bad.offset} bytes (truncate -s ${bad.offset} ${file}).` : '';
  return new PersistenceError(
    `Refusing to start: ${file} is damaged at byte ${bad.offset}: ${bad.reason}.${cause} Nothing was loaded and no file was changed. Restore the data directory from a backup, or move the file aside to start without its data.${keep}`,
  );
}

/**
 * Durability for a MemoryEngine's keyspace: loads the snapshot and the logs
 * at start-up, then, as the keyspace's journal, appends a record for every
 * change. A snapshot switches to a new log first, then writes the keys a
 * chunk at a time while the engine keeps serving; the new log holds every
 * change made meanwhile, so snapshot + newer logs always rebuild the state.
 */
export class Persistence implements MutationJournal {
  readonly restored: RestoreReport;
  /** Under `always`, a write is acknowledged only once `durable()` resolves. */
  readonly waitsForDisk: boolean;
  /** Records appended so far: lets execute() tell whether its batch wrote anything. */
  appended = 0;
  private readonly dir: string;
  private readonly logger: PersistenceLogger;
  private readonly log: AppendOnlyLog;
  private readonly snapshotLogBytes: number;
  private readonly releaseLock: () => void;
  private readonly snapshotTimer: ReturnType<typeof setInterval> | undefined;
  private logSeq: number;
  private lastSnapshotBytes = 0;
  private snapshotting: Promise<SnapshotReport> | undefined;
  /** The refusal of the current outage, built once. */
  private refusal: LixError | undefined;
  private sizeTriggerArmed = true;
  private closing = false;

  constructor(
    options: PersistenceOptions,
    private readonly keyspace: Keyspace,
  ) {
    const checked = checkOptions(options);
    this.dir = checked.dir;
    this.logger = checked.log;
    this.snapshotLogBytes = checked.snapshotLogBytes;
    this.waitsForDisk = checked.fsync === 'always';
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new Error(`Cannot create the data directory ${this.dir}: ${(error as Error).message}. Create it, or choose a directory this process may write.`, { cause: error });
    }
    this.releaseLock = lockDir(this.dir);
    try {
      const { report, logSeq, logFd, logSize } = this.load();
      this.restored = report;
      this.logSeq = logSeq;
      this.log = new AppendOnlyLog(
        logFd,
        join(this.dir, logName(logSeq)),
        logSize,
        checked.fsync,
        (error) => this.failed(error),
        (failedMs) => this.recovered(failedMs),
      );
    } catch (error) {
      this.releaseLock();
      throw error;
    }
    this.logger('info', `loaded ${this.restored.keys} keys from ${this.dir} in ${this.restored.durationMs} ms`, { ...this.restored });
    if (checked.snapshotIntervalMs > 0) {
      this.snapshotTimer = setInterval(() => {
        if (this.log.size + this.log.bufferedBytes > LOG_MAGIC.length) this.snapshotInBackground();
      }, checked.snapshotIntervalMs);
      this.snapshotTimer.unref();
    }
  }

  /** The last write failure, while it lasts. */
  get failure(): Error | undefined {
    return this.log.failure;
  }

  /**
   * The error writes are refused with while the log is failing: under `always` at once, under `everysec`
   * and `no` once it has failed for longer than their one-second window. undefined while writes may go on.
   */
  writeRefusal(now: number): LixError | undefined {
    const since = this.log.failingSince;
    if (since === 0 || (!this.waitsForDisk && now - since <= FAILURE_WINDOW_MS)) return undefined;
    return (this.refusal ??= lixError('persistence_failed', this.log.path, this.causeOf(this.log.failure)));
  }

  private failed(error: Error): void {
    this.refusal = undefined;
    this.logger('error', `${error.message} Writes are refused (persistence_failed) until it works again${this.waitsForDisk ? '' : ` if this lasts over ${FAILURE_WINDOW_MS} ms`}; reads go on.`, {
      dir: this.dir,
      file: this.log.path,
    });
  }

  private recovered(failedMs: number): void {
    this.refusal = undefined;
    this.logger('warn', `the append-only log ${this.log.path} is written again after failing for ${failedMs} ms; writes are accepted again, and a snapshot is taken to cover anything a failed fsync may have dropped`, {
      dir: this.dir,
      failedMs,
    });
    // An fsync that failed may have dropped written pages (Linux marks them clean): a snapshot rewrites every key.
    setImmediate(() => this.snapshotInBackground());
  }

  /** The OS error behind a log failure, e.g. "ENOSPC: no space left on device, write". */
  private causeOf(failure: Error | undefined): string {
    const cause = failure?.cause;
    return cause instanceof Error ? cause.message : (failure?.message ?? 'unknown error');
  }

  put(key: string, value: string | number, expiresAt: number, tags: readonly string[] | undefined): void {
    this.append(encodePut(key, value, expiresAt, tags));
  }

  expire(key: string, expiresAt: number): void {
    this.append(encodeExpire(key, expiresAt));
  }

  delete(key: string): void {
    this.append(encodeDelete(key));
  }

  clear(): void {
    this.append(encodeClear());
  }

  /** Resolves once every record appended so far is on disk per the fsync policy. */
  durable(): Promise<void> {
    return this.log.durable();
  }

  /** Write a snapshot now and drop the logs it replaces (one at a time: a call during a snapshot joins it). */
  snapshot(): Promise<SnapshotReport> {
    if (this.closing) return Promise.reject(new Error('The engine is closing; no new snapshot is started.'));
    this.snapshotting ??= this.writeSnapshot().then(
      (report) => {
        this.snapshotting = undefined;
        this.lastSnapshotBytes = report.bytes;
        this.sizeTriggerArmed = true;
        return report;
      },
      (error: Error) => {
        this.snapshotting = undefined;
        // Re-arm the size trigger later, not at once: a full disk would otherwise start a snapshot per write.
        setTimeout(() => (this.sizeTriggerArmed = true), RETRY_SNAPSHOT_MS).unref();
        throw error;
      },
    );
    return this.snapshotting;
  }

  /** Stop snapshots, write and fsync the log, release the directory. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.snapshotTimer !== undefined) clearInterval(this.snapshotTimer);
    await this.snapshotting?.catch(() => undefined);
    try {
      await this.log.close();
    } finally {
      this.releaseLock();
    }
  }

  private append(frame: Buffer): void {
    this.log.append(frame);
    this.appended++;
    // Plain arithmetic per record; the snapshot itself runs in the background.
    if (this.sizeTriggerArmed && this.log.size + this.log.bufferedBytes > Math.max(this.snapshotLogBytes, this.lastSnapshotBytes)) {
      this.sizeTriggerArmed = false;
      setImmediate(() => this.snapshotInBackground());
    }
  }

  private snapshotInBackground(): void {
    if (this.closing || this.snapshotting !== undefined) return;
    this.snapshot().then(
      (report) => this.logger('info', `snapshot of ${report.keys} keys written in ${report.durationMs} ms`, { dir: this.dir, ...report }),
      (error: Error) => this.logger('error', `snapshot failed: ${error.message}. The log keeps every change; the next snapshot retries.`, { dir: this.dir }),
    );
  }

  private async writeSnapshot(): Promise<SnapshotReport> {
    const started = performance.now();
    const seq = this.logSeq + 1;
    const nextFd = createLog(this.dir, seq);
    try {
      this.log.switchTo(nextFd, LOG_MAGIC.length, join(this.dir, logName(seq)));
    } catch (error) {
      closeSync(nextFd);
      unlinkSync(join(this.dir, logName(seq)));
      throw error;
    }
    this.logSeq = seq;
    const tmpPath = join(this.dir, SNAPSHOT_TMP);
    const fd = openSync(tmpPath, 'w');
    let bytes = 0;
    let keys = 0;
    try {
      bytes += writeFully(fd, SNAPSHOT_MAGIC, bytes);
      bytes += writeFully(fd, encodeSnapshotStart(seq, Date.now()), bytes);
      let after: string | undefined;
      for (;;) {
        if (this.closing) throw new Error('the engine is closing');
        const chunk: Buffer[] = [];
        let chunkBytes = 0;
        let last: string | undefined;
        for (const [key, entry] of this.keyspace.entriesFrom(after ?? '', Date.now())) {
          if (key === after) continue;
          const frame = encodePut(key, entry.value, entry.expiresAt, entry.tags);
          chunk.push(frame);
          chunkBytes += frame.length;
          last = key;
          if (chunk.length === SNAPSHOT_CHUNK_KEYS || chunkBytes >= SNAPSHOT_CHUNK_BYTES) break;
        }
        if (last === undefined) break;
        bytes += writeFully(fd, Buffer.concat(chunk, chunkBytes), bytes);
        keys += chunk.length;
        after = last;
        await new Promise((resolve) => setImmediate(resolve));
      }
      bytes += writeFully(fd, encodeSnapshotEnd(keys), bytes);
      await fdatasyncAsync(fd);
      closeSync(fd);
    } catch (error) {
      closeSync(fd);
      unlinkSync(tmpPath);
      throw error;
    }
    renameSync(tmpPath, join(this.dir, SNAPSHOT));
    fsyncDir(this.dir);
    for (const name of readdirSync(this.dir)) {
      const match = LOG_NAME.exec(name);
      if (match !== null && Number(match[1]) < seq) unlinkSync(join(this.dir, name));
    }
    return { keys, bytes, durationMs: Math.round(performance.now() - started) };
  }

  /** Read the snapshot, then every newer log; drop a torn last record; open the last log for appending. */
  private load(): { report: RestoreReport; logSeq: number; logFd: number; logSize: number } {
    const started = performance.now();
    const dir = this.dir;
    const keyspace = this.keyspace;
    const now = Date.now();
    let expiredSkipped = 0;
    let snapshotKeys = 0;
    let logRecords = 0;
    let droppedBytes = 0;

    const apply = (record: LogRecord): void => {
      switch (record.type) {
        case RecordType.put: {
          if (record.expiresAt !== 0 && record.expiresAt <= now) {
            const entry = keyspace.peek(record.key, now);
            if (entry !== undefined) keyspace.delete(record.key, entry);
            expiredSkipped++;
          } else keyspace.put(record.key, record.value, record.expiresAt, record.tags);
          break;
        }
        case RecordType.expire: {
          const entry = keyspace.peek(record.key, now);
          if (entry === undefined) break;
          if (record.expiresAt !== 0 && record.expiresAt <= now) {
            keyspace.delete(record.key, entry);
            expiredSkipped++;
          } else keyspace.setExpiry(record.key, entry, record.expiresAt);
          break;
        }
        case RecordType.delete: {
          const entry = keyspace.peek(record.key, now);
          if (entry !== undefined) keyspace.delete(record.key, entry);
          break;
        }
        case RecordType.clear:
          keyspace.clear(now);
          break;
        default:
          throw new MalformedRecord(`a snapshot record (type ${record.type}) inside a log`);
      }
    };
    const decode = (file: string, payload: Buffer, offset: number): LogRecord => {
      try {
        return decodeRecord(payload);
      } catch (error) {
        throw damaged(file, { offset, reason: (error as Error).message, intactAfter: true }, false);
      }
    };

    const names = readdirSync(dir);
    // A snapshot interrupted by a crash: the logs still hold everything it would have.
    if (names.includes(SNAPSHOT_TMP)) unlinkSync(join(dir, SNAPSHOT_TMP));

    let logSeq = 1;
    let snapshotBytes = 0;
    if (names.includes(SNAPSHOT)) {
      const file = join(dir, SNAPSHOT);
      let start: SnapshotStart | undefined;
      let ended = false;
      const result = readFrames(file, SNAPSHOT_MAGIC, (payload, offset) => {
        const record = decode(file, payload, offset);
        const fail = (reason: string): never => {
          throw damaged(file, { offset, reason, intactAfter: true }, false);
        };
        if (start === undefined) {
          if (record.type !== RecordType.snapshotStart) fail('it does not begin with a snapshot header');
          start = record as SnapshotStart;
          return;
        }
        if (ended) fail('records follow its end marker');
        if (record.type === RecordType.snapshotEnd) {
          if (record.count !== snapshotKeys + expiredSkipped) fail(`its end marker counts ${record.count} keys but it holds ${snapshotKeys + expiredSkipped}`);
          ended = true;
          return;
        }
        if (record.type !== RecordType.put) fail(`a record of type ${record.type} where only keys belong`);
        const put = record as Extract<LogRecord, { type: typeof RecordType.put }>;
        if (put.expiresAt !== 0 && put.expiresAt <= now) expiredSkipped++;
        else {
          keyspace.put(put.key, put.value, put.expiresAt, put.tags);
          snapshotKeys++;
        }
      });
      if (result.bad !== undefined) throw damaged(file, result.bad, false);
      if (!ended || start === undefined) {
        throw damaged(file, { offset: result.size, reason: 'it ends before its end marker (snapshots are renamed into place only when complete)', intactAfter: false }, false);
      }
      logSeq = start.logSeq;
      snapshotBytes = result.size;
    }

    const seqs = names
      .map((name) => LOG_NAME.exec(name))
      .filter((match) => match !== null)
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
    // Logs older than the snapshot: left by a crash between its rename and their deletion.
    for (const seq of seqs) if (seq < logSeq) unlinkSync(join(dir, logName(seq)));
    const live = seqs.filter((seq) => seq >= logSeq);
    live.forEach((seq, i) => {
      if (seq !== logSeq + i) {
        throw new PersistenceError(
          `Refusing to start: ${join(dir, logName(logSeq + i))} is missing (found ${live.map(logName).join(', ')}${names.includes(SNAPSHOT) ? ` after ${SNAPSHOT}` : ', and no snapshot'}), so changes in it would be lost. Restore the data directory from a backup, or move its files aside to start empty.`,
        );
      }
    });

    live.forEach((seq, i) => {
      const file = join(dir, logName(seq));
      const result = readFrames(file, LOG_MAGIC, (payload, offset) => {
        const record = decode(file, payload, offset);
        try {
          apply(record);
        } catch (error) {
          if (error instanceof MalformedRecord) throw damaged(file, { offset, reason: error.message, intactAfter: true }, true);
          throw error;
        }
        logRecords++;
      });
      if (result.bad === undefined) return;
      const isLast = i === live.length - 1;
      if (!isLast || result.bad.intactAfter) throw damaged(file, result.bad, true);
      droppedBytes = result.size - result.bad.offset;
      this.logger(
        'warn',
        `dropped ${droppedBytes} bytes at the end of ${file}: a record cut short by a crash (${result.bad.reason}); every record before it was loaded`,
        { file, droppedBytes, offset: result.bad.offset },
      );
      if (result.bad.offset < LOG_MAGIC.length) {
        unlinkSync(file);
        closeSync(createLog(dir, seq));
      } else truncateSync(file, result.bad.offset);
    });

    let logFd: number;
    let logSize: number;
    const lastSeq = live.length > 0 ? live[live.length - 1]! : logSeq;
    if (live.length === 0) {
      logFd = createLog(dir, lastSeq);
      logSize = LOG_MAGIC.length;
    } else {
      const file = join(dir, logName(lastSeq));
      logFd = openSync(file, 'r+');
      logSize = statSync(file).size;
    }
    this.lastSnapshotBytes = snapshotBytes;
    const report: RestoreReport = {
      dir,
      keys: keyspace.size,
      snapshotKeys,
      logRecords,
      expiredSkipped,
      droppedBytes,
      durationMs: Math.round(performance.now() - started),
    };
    return { report, logSeq: lastSeq, logFd, logSize };
  }
}
