import type {
  Command,
  ErrorResult,
  GetCommand,
  GetResult,
  IncrCommand,
  Json,
  JsonObject,
  MergeCommand,
  Result,
  ScanCommand,
  ScanItem,
  ScanResult,
  SetCommand,
} from '../commands/commands';
import type { ChangeListener, Engine, EngineHealth, EngineStats, Watch } from '../commands/engine';
import { ChangeFeed } from '../commands/change-feed';
import { LixError, lixError } from '../commands/errors';
import type { PersistenceOptions, RestoreReport, SnapshotReport } from '../persistence/persistence';
import { Persistence } from '../persistence/persistence';
import { Keyspace } from './keyspace';
import type { Limits } from '../commands/limits';
import { DEFAULT_SCAN_LIMIT, resolveLimits } from '../commands/limits';
import { ResponseBudget } from '../commands/response-budget';
import { decodeCursor, encodeCursor } from './scan-cursor';
import { encodeValue } from '../commands/validate';

/** Options of `new MemoryEngine(options)`. */
export interface MemoryEngineOptions {
  /**
   * Most keys held. Writing past it evicts the least recently used keys
   * (counted in `stats().evictions`). Default 500000 (the server's LIX_CACHE_LIMIT).
   */
  limit?: number;
  /**
   * Memory budget in bytes of heap, by an estimate of what each key, value, tag
   * list, distinct tag and expiry bucket really costs on V8's heap (the live heap
   * the store holds stays within 1.25x of it; see the core README). Writing past
   * it evicts the least recently used keys. 0 (default): no budget, only `limit`
   * applies, and a flood of large values can exhaust the heap: set one (the server
   * derives half of the heap beyond 64 MiB).
   */
  maxMemory?: number;
  /** Overrides of the size limits (value size is checked on every write). Default: DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
  /**
   * How often, in ms, the active sweep reclaims expired keys (also the
   * expiry wheel's bucket width). An expired key is never returned either
   * way; this bounds how long its memory stays held. Default 100.
   */
  sweepIntervalMs?: number;
  /**
   * Make the engine durable: every change goes to an append-only log in
   * `persistence.dir`, compacted by periodic snapshots, and a new engine on
   * the same directory starts with the same keys (expired ones skipped).
   * Loading happens in the constructor, which throws a PersistenceError for
   * a damaged file. Absent (default): nothing touches the disk.
   */
  persistence?: PersistenceOptions;
}

/**
 * Longest (ms) the sweep runs before it yields to other work. A mass expiry is
 * reclaimed in back-to-back slices of this length, with the event loop free
 * in between, instead of waiting one sweep interval per fixed number of keys.
 */
const SWEEP_SLICE_MS = 4;
/** Keys reclaimed between two clock reads inside a slice. */
const SWEEP_CHUNK = 256;
/** Ops refused while the append-only log fails (a get with `touch` still reads, without the touch). */
const WRITES: ReadonlySet<Command['op']> = new Set(['set', 'merge', 'delete', 'incr', 'decr', 'expire', 'invalidate', 'clear']);

function positiveInteger(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TypeError(`MemoryEngine option "${name}" must be a whole number ${allowZero ? '≥ 0' : '≥ 1'}; got ${String(value)}.`);
  }
  return value;
}

/** Seconds of TTL → absolute expiry in epoch ms (0: never). */
function expiryOf(ttl: number | undefined, now: number): number {
  return ttl === undefined || ttl === 0 ? 0 : now + ttl * 1000;
}

/** Remaining seconds at millisecond precision, rounded up so a live key never reports 0. */
function remaining(expiresAt: number, now: number): number | null {
  return expiresAt === 0 ? null : Math.ceil(expiresAt - now) / 1000;
}

function decode(value: string | number): Json {
  return typeof value === 'number' ? value : (JSON.parse(value) as Json);
}

/** Characters of JSON a stored value takes in a response (its text, or a number's digits at most). */
function valueLength(value: string | number): number {
  return typeof value === 'number' ? 24 : value.length;
}

function errorResult(command: Command, error: unknown): ErrorResult {
  const lix = error instanceof LixError ? error : lixError('internal', error instanceof Error ? error.message : String(error));
  const detail = { code: lix.code, message: lix.message };
  return 'key' in command ? { op: command.op, key: command.key, error: detail } : { op: command.op, error: detail };
}

/**
 * The embedded engine: a least-recently-used map of JSON texts with TTLs,
 * tags and sorted prefix scans, all in this process. Values are stored as
 * JSON text, which makes them immutable (a caller changing a returned object
 * never changes the cache) and their memory measurable.
 */
export class MemoryEngine implements Engine {
  private readonly keyspace: Keyspace;
  private readonly limits: Limits;
  private readonly limit: number;
  private readonly maxMemory: number;
  private readonly sweepTimer: ReturnType<typeof setInterval>;
  /** The next slice of a sweep that ran out of time, if one is due. */
  private sweepSlice: ReturnType<typeof setImmediate> | undefined;
  private readonly persistence: Persistence | undefined;
  private hits = 0;
  private misses = 0;
  private operations = 0;
  private closed = false;
  /** Watchers of changes; attached to the keyspace only while there are some. */
  private readonly changes = new ChangeFeed(true, (used) => (this.keyspace.changes = used ? this.changes : undefined));
  /** The current `execute` call's response budget (one object, reset per call: execute runs its commands synchronously). */
  private readonly budget: ResponseBudget;

  constructor(options: MemoryEngineOptions = {}) {
    this.limit = positiveInteger(options.limit, 'limit', 500_000);
    this.maxMemory = positiveInteger(options.maxMemory, 'maxMemory', 0, true);
    const sweepIntervalMs = positiveInteger(options.sweepIntervalMs, 'sweepIntervalMs', 100);
    this.limits = resolveLimits(options.limits);
    this.budget = new ResponseBudget(this.limits);
    this.keyspace = new Keyspace({ limit: this.limit, maxMemory: this.maxMemory, resolutionMs: sweepIntervalMs, now: Date.now() });
    if (options.persistence !== undefined) {
      this.persistence = new Persistence(options.persistence, this.keyspace);
      this.keyspace.journal = this.persistence;
    }
    this.sweepTimer = setInterval(() => {
      if (this.sweepSlice === undefined) this.sweep();
    }, sweepIntervalMs);
    this.sweepTimer.unref();
  }

  async execute(commands: readonly Command[]): Promise<Result[]> {
    if (this.closed) throw lixError('unavailable', 'this MemoryEngine was closed; create a new one');
    const now = Date.now();
    const persistence = this.persistence;
    const appendedBefore = persistence?.appended;
    // While the log fails, writes are refused and reads go on (Redis's MISCONF); a field read when healthy.
    const refusal = persistence?.writeRefusal(now);
    const results = new Array<Result>(commands.length);
    this.budget.left = this.limits.maxResponseBytes;
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      try {
        if (refusal !== undefined) {
          if (WRITES.has(command.op)) throw refusal;
          // A touch appends a record too: while the log fails a get reads without sliding the TTL, so memory held for the log stays bounded.
          if (command.op === 'get' && command.touch !== undefined) {
            results[i] = this.get({ ...command, touch: undefined }, now);
            continue;
          }
        }
        results[i] = this.run(command, now);
      } catch (error) {
        results[i] = errorResult(command, error);
      }
    }
    this.operations += commands.length;
    if (persistence !== undefined && persistence.waitsForDisk && persistence.appended !== appendedBefore) {
      try {
        await persistence.durable();
      } catch (error) {
        throw persistence.writeRefusal(Date.now()) ?? lixError('unavailable', `the append-only log could not be written (${(error as Error).message})`);
      }
    }
    return results;
  }

  async stats(): Promise<EngineStats> {
    return {
      engine: 'memory',
      size: this.keyspace.size,
      limit: this.limit,
      memory: this.keyspace.memory,
      maxMemory: this.maxMemory,
      hits: this.hits,
      misses: this.misses,
      evictions: this.keyspace.evictions,
      expirations: this.keyspace.expirations,
      operations: this.operations,
    };
  }

  async health(): Promise<EngineHealth> {
    if (this.closed) return { ok: false, message: 'the engine is closed' };
    const failure = this.persistence?.failure;
    return failure === undefined ? { ok: true } : { ok: false, message: failure.message, code: 'persistence_failed' };
  }

  /** Every change, synchronously as it happens in `execute` (or as the sweep reclaims an expired key). Always live. */
  watch(listener: ChangeListener): Watch {
    return this.changes.watch(listener);
  }

  /** Stop the sweep; with persistence, write and fsync the log and release the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearImmediate(this.sweepSlice);
    await this.persistence?.close();
  }

  /** What start-up loaded from `persistence.dir` (undefined without persistence). */
  get restored(): RestoreReport | undefined {
    return this.persistence?.restored;
  }

  /** Write a snapshot now, compacting the log (a call during a snapshot joins it). Needs the `persistence` option. */
  snapshot(): Promise<SnapshotReport> {
    if (this.persistence === undefined) return Promise.reject(new TypeError('snapshot() needs a MemoryEngine created with the "persistence" option.'));
    if (this.closed) return Promise.reject(lixError('unavailable', 'this MemoryEngine was closed; create a new one'));
    return this.persistence.snapshot();
  }

  /** Sizes of the internal indexes (keys, sorted index, tags, expiry buckets): for tests and diagnostics. */
  indexSizes(): { keys: number; sorted: number; tags: number; expiryBuckets: number } {
    return this.keyspace.indexSizes;
  }

  /** One slice of the active sweep; schedules the next one while expired keys remain. */
  private readonly sweep = (): void => {
    this.sweepSlice = undefined;
    const start = performance.now();
    const now = Date.now();
    while (this.keyspace.sweep(now, SWEEP_CHUNK) === SWEEP_CHUNK) {
      if (performance.now() - start >= SWEEP_SLICE_MS) {
        this.sweepSlice = setImmediate(this.sweep).unref();
        return;
      }
    }
  };

  private run(command: Command, now: number): Result {
    const keyspace = this.keyspace;
    switch (command.op) {
      case 'get':
        return this.get(command, now);
      case 'set':
        return this.set(command, now);
      case 'merge':
        return this.merge(command, now);
      case 'delete': {
        const entry = keyspace.peek(command.key, now);
        if (entry !== undefined) keyspace.delete(command.key, entry);
        return { op: 'delete', key: command.key, success: true, deleted: entry !== undefined };
      }
      case 'exists':
        return { op: 'exists', key: command.key, exists: keyspace.peek(command.key, now) !== undefined };
      case 'incr':
      case 'decr':
        return this.incr(command, now);
      case 'expire': {
        const entry = keyspace.peek(command.key, now);
        if (entry !== undefined) keyspace.setExpiry(command.key, entry, expiryOf(command.ttl, now));
        return { op: 'expire', key: command.key, success: entry !== undefined };
      }
      case 'scan':
        return this.scan(command, now);
      case 'invalidate': {
        let deleted = 0;
        for (const key of keyspace.keysWithTag(command.tag)) {
          const entry = keyspace.peek(key, now);
          if (entry === undefined) continue;
          keyspace.delete(key, entry);
          deleted++;
        }
        return { op: 'invalidate', tag: command.tag, deleted };
      }
      case 'clear':
        return { op: 'clear', success: true, cleared: keyspace.clear(now) };
    }
  }

  private get(command: GetCommand, now: number): Result {
    const entry = this.keyspace.get(command.key, now);
    if (entry === undefined) {
      this.misses++;
      return { op: 'get', key: command.key, value: null, ttl: null, found: false };
    }
    if (!this.budget.take(command.key, valueLength(entry.value))) throw this.budget.error();
    this.hits++;
    if (command.touch !== undefined) this.keyspace.setExpiry(command.key, entry, expiryOf(command.touch, now));
    const result: GetResult = { op: 'get', key: command.key, value: decode(entry.value), ttl: remaining(entry.expiresAt, now), found: true };
    if (command.withTags) result.tags = entry.tags ? [...entry.tags] : [];
    return result;
  }

  private set(command: SetCommand, now: number): Result {
    const { key, value } = command;
    if (command.nx === true || command.xx === true) {
      const present = this.keyspace.peek(key, now) !== undefined;
      if (present === (command.nx === true)) return { op: 'set', key, success: true, written: false };
    }
    // Finite numbers stay numbers (incr reads them without parsing); everything else is stored as its JSON text.
    const stored = typeof value === 'number' && Number.isFinite(value) ? value : encodeValue(value, this.limits);
    this.keyspace.put(key, stored, expiryOf(command.ttl, now), command.tags);
    return { op: 'set', key, success: true, written: true };
  }

  private merge(command: MergeCommand, now: number): Result {
    const { key } = command;
    const entry = this.keyspace.peek(key, now);
    if (entry === undefined) return { op: 'merge', key, success: false };
    const current = decode(entry.value);
    if (typeof current !== 'object' || current === null || Array.isArray(current)) throw lixError('not_object', key);
    const merged: JsonObject = { ...current, ...command.value };
    const expiresAt = command.ttl === undefined ? entry.expiresAt : expiryOf(command.ttl, now);
    this.keyspace.put(key, encodeValue(merged, this.limits, false), expiresAt, entry.tags);
    return { op: 'merge', key, success: true };
  }

  private incr(command: IncrCommand, now: number): Result {
    const { key, op } = command;
    const entry = this.keyspace.peek(key, now);
    if (entry !== undefined && typeof entry.value !== 'number') throw lixError('non_numeric', key);
    const amount = command.amount ?? 1;
    const value = ((entry?.value as number | undefined) ?? 0) + (op === 'incr' ? amount : -amount);
    if (!Number.isFinite(value)) throw lixError('invalid_amount', `${amount}, which would take "${key}" out of the range of finite numbers`);
    if (entry === undefined) this.keyspace.put(key, value, expiryOf(command.ttl, now), undefined);
    else this.keyspace.put(key, value, entry.expiresAt, entry.tags);
    return { op, key, value };
  }

  private scan(command: ScanCommand, now: number): ScanResult {
    const prefix = command.prefix ?? '';
    const after = command.cursor ? decodeCursor(command.cursor) : undefined;
    const limit = command.limit ?? DEFAULT_SCAN_LIMIT;
    const keysOnly = command.keysOnly === true;
    const keys: string[] = [];
    const items: ScanItem[] = [];
    let last: string | undefined;
    let more = false;
    const start = after !== undefined && after > prefix ? after : prefix;
    const candidates = this.keyspace.keysFrom(start, command.tag);
    if (candidates !== undefined) {
      for (const key of candidates) {
        if (!key.startsWith(prefix)) break;
        if (key === after) continue;
        const entry = this.keyspace.live(key, now);
        if (entry === undefined) continue;
        if (keys.length + items.length === limit) {
          more = true;
          break;
        }
        // A page ends early (with a cursor) once the response budget is spent; the first item that does not fit fails the command.
        if (!this.budget.take(key, keysOnly ? undefined : valueLength(entry.value))) {
          if (last === undefined) throw this.budget.error();
          more = true;
          break;
        }
        if (keysOnly) keys.push(key);
        else items.push({ key, value: decode(entry.value), ttl: remaining(entry.expiresAt, now) });
        last = key;
      }
    }
    const cursor = more ? encodeCursor(last!) : null;
    return keysOnly ? { op: 'scan', keys, count: keys.length, cursor } : { op: 'scan', items, count: items.length, cursor };
  }
}
