import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import type { ClusterNode, RedisOptions } from 'ioredis';
import type {
  ClearCommand,
  Command,
  ErrorResult,
  GetCommand,
  GetResult,
  IncrCommand,
  InvalidateCommand,
  Json,
  Result,
  ScanCommand,
  ScanItem,
  ScanResult,
  SetCommand,
} from '../commands/commands';
import type { ChangeListener, Engine, EngineHealth, EngineStats, Watch } from '../commands/engine';
import { ChangeFeed } from '../commands/change-feed';
import { LixError, lixError } from '../commands/errors';
import type { Limits } from '../commands/limits';
import { DEFAULT_SCAN_LIMIT, RESULT_OVERHEAD_BYTES, resolveLimits } from '../commands/limits';
import { ResponseBudget } from '../commands/response-budget';
import { decodeRedisCursor, encodeRedisCursor } from './redis-cursor';
import { classifyRedisFailure, isUnavailableReply } from './redis-failures';
import { RedisChangeFeed } from './redis-change-feed';
import { BATCH_SCRIPT, CROSS_SLOT_BATCH_SCRIPT } from './redis-scripts';
import { parseRedisUrl } from './redis-url';
import { encodeValue } from '../commands/validate';

/** Options of `new RedisEngine(options)`. */
export interface RedisEngineOptions {
  /**
   * Where Redis (or Valkey) listens:
   * - `redis://[user:password@]host:port[/db]` — a standalone server (db defaults to 0);
   * - `rediss://…` — the same over TLS;
   * - `redis-cluster://[user:password@]host1:port1,host2:port2,…` — a Redis Cluster,
   *   reached through any of the listed nodes (`rediss-cluster://` for TLS).
   *
   * Each may end in `?keyPrefix=…` (the `keyPrefix` option wins over it).
   */
  url: string;
  /**
   * Prefix of every Redis key this engine writes, so several caches (or other
   * apps) can share one Redis: values live at `<keyPrefix>k:<key>`, tag
   * indexes at `<keyPrefix>t:<tag>`, and `clear` deletes only those.
   * In a Cluster, a prefix with a `{hash tag}` puts every key in one slot.
   * Default: the URL's `?keyPrefix=`, else `'lix:'`.
   */
  keyPrefix?: string;
  /** Overrides of the size limits (value size is checked on every write). Default: DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
  /**
   * Reported as `stats().limit`. Redis bounds memory, not a key count: set
   * `maxmemory` and `maxmemory-policy allkeys-lru` on the Redis side for LRU
   * eviction (reported as `stats().maxMemory` and `evictions`). Default 0 (none).
   */
  limit?: number;
  /** How long to wait for the first connection, and for each (re)connect attempt, in ms. Default 2000. */
  connectTimeoutMs?: number;
  /**
   * Longest wait for one Redis reply, in ms, so a hung Redis fails requests
   * with `unavailable` instead of stalling them. Default 5000.
   */
  commandTimeoutMs?: number;
}

type Client = Redis | Cluster;

/** The batch script (see redis-scripts.ts), as the methods ioredis `defineCommand` adds (EVALSHA, EVAL on NOSCRIPT). */
interface Scripts {
  lixBatch(firstKey: string, tagPrefix: string, dataPrefix: string, ops: string[]): Promise<unknown[]>;
  lixCrossSlotBatch(firstKey: string, tagPrefix: string, dataPrefix: string, ops: string[]): Promise<unknown[]>;
}

/** One per-key op of the batch script: the Redis key it acts on, its name and its arguments. */
interface Op {
  key: string;
  name: string;
  args: string[];
}

type PerKeyCommand = Exclude<Command, ScanCommand | InvalidateCommand | ClearCommand>;

/** The results of one `execute` call, filled in as replies arrive. */
interface Waiting {
  results: Result[];
  left: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** Ops of `execute` calls for one script call: the script's ARGV (see `encode`), and where each result goes. */
interface Chunk {
  argv: string[];
  /** Characters in argv. */
  chars: number;
  items: { command: PerKeyCommand; index: number; waiting: Waiting }[];
}

/** Keys per SCAN call at first: larger means fewer round trips when few keys match. */
const SCAN_COUNT = 1000;
/**
 * Most keys per SCAN call, reached (×4) once a call finds too few matches: a prefix scan walks
 * the whole db (no index; see bench/RESULTS.md "Redis prefix scans"). 4000 cuts its round trips
 * 4× at the same Redis time; larger COUNTs save no Redis time and hold it up longer per call.
 */
const SCAN_COUNT_MAX = 4000;
/** Arguments per SREM, so a huge tag never builds one giant command. */
const SREM_CHUNK = 1000;
/** Ops per script call: few calls, yet none that holds Redis up for long. */
const OPS_PER_CALL = 1000;
/** Characters of arguments per script call (values up to 1 MiB each), far below Redis's 1 GiB query buffer limit. */
const CHARS_PER_CALL = 1 << 20;

/** Seconds → the millisecond TTL argument of the scripts ('0': no expiry), never rounding a TTL down to none. */
function ttlArg(ttl: number | undefined): string {
  return ttl === undefined || ttl === 0 ? '0' : String(Math.max(1, Math.ceil(ttl * 1000)));
}

/** PTTL → remaining seconds, null for no expiry; a live key never reports 0. */
function ttlOf(pttl: number): number | null {
  return pttl < 0 ? null : Math.max(pttl, 1) / 1000;
}

/** A member's PTTL as the TTL argument of tagAdd. */
function pttlArg(pttl: number): string {
  return pttl < 0 ? '0' : String(Math.max(pttl, 1));
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Tags from the `t:<tag>` fields a script returned, starting at index `from`. */
function tagsOf(fields: readonly unknown[], from = 0): string[] {
  const tags: string[] = [];
  for (let i = from; i < fields.length; i++) tags.push((fields[i] as string).slice(2));
  return tags;
}

/**
 * Commands whose values are copied as they are now: a caller may change a value object once
 * `execute` returns its promise, and the value stored must be the one it passed. Only for the
 * rare call that awaits before encoding; a value that cannot be encoded is left for `encode` to refuse.
 */
function snapshotValues(commands: readonly Command[], limits: Limits): readonly Command[] {
  return commands.map((command) => {
    try {
      if (command.op === 'set') return { ...command, value: JSON.parse(encodeValue(command.value, limits)) as Json };
      if (command.op !== 'merge') return command;
      // Field by field, keeping the fields JSON drops (undefined: merge removes them).
      const value = Object.fromEntries(Object.entries(command.value).map(([field, item]) => [field, item === undefined ? item : (JSON.parse(encodeValue(item, limits)) as Json)]));
      return { ...command, value } as Command;
    } catch {
      return command;
    }
  });
}

function commandError(command: Command, error: LixError): ErrorResult {
  const detail = { code: error.code, message: error.message };
  return 'key' in command ? { op: command.op, key: command.key, error: detail } : { op: command.op, error: detail };
}

/** Sum of one numeric INFO field over nodes; `pattern` captures the number. */
function sumInfo(infos: readonly string[], pattern: RegExp): number {
  let total = 0;
  for (const info of infos) total += Number(pattern.exec(info)?.[1] ?? 0);
  return total;
}

const INFO = {
  usedMemory: /^used_memory:(\d+)/m,
  maxMemory: /^maxmemory:(\d+)/m,
  evicted: /^evicted_keys:(\d+)/m,
  expired: /^expired_keys:(\d+)/m,
};

/**
 * The engine for Valkey/Redis, standalone or Cluster: many Lix servers (or
 * SDK processes) share one keyspace. Same semantics as MemoryEngine; the
 * per-key steps run in a Lua script (atomic), tag indexes are Redis sets (see
 * redis-scripts.ts for the layout). The per-key commands of all `execute`
 * calls of one event-loop turn go to Redis as a few script calls in one write.
 *
 * While Redis is unreachable, `execute` rejects at once with an `unavailable`
 * LixError (HTTP 503) instead of queueing; the client reconnects by itself.
 */
export class RedisEngine implements Engine {
  private readonly client: Client & Scripts;
  private readonly limits: Limits;
  private readonly limit: number;
  private readonly dataPrefix: string;
  private readonly tagPrefix: string;
  /** Watchers of changes; the Redis feed runs only while there are some (and the engine is open). */
  private readonly changes = new ChangeFeed(false, (used) => {
    if (used && !this.closed) this.feed.start();
    else this.feed.stop();
  });
  private readonly feed: RedisChangeFeed;
  private readonly where: string;
  /** INFO keyspace line of our db. */
  private readonly keysInfo: RegExp;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly firstReady: Promise<void>;
  /**
   * Whether tag sets share the slot of every key (standalone Redis, or a Cluster keyPrefix
   * with a {hash tag}): then the script keeps them in step with the key (see redis-scripts.ts).
   */
  private readonly inlineTags: boolean;
  /** Tag-index upkeep that no result waits for (dropping a key from tags it left, stretching a tag's TTL). */
  private readonly background = new Set<Promise<void>>();
  /** Each master's INFO run_id, for prefix cursors (see `scanCheck`); dropped when its connection closes. */
  private readonly runIds = new WeakMap<Redis, Promise<string>>();
  /** Script calls this event-loop turn is filling, by master (see `nodeOf`), sent by `flush`. */
  private readonly open = new Map<string, Chunk>();
  /** Cluster with external tags: whether the masters run one script call over keys of several slots (Redis 7+). */
  private crossSlot = false;
  private flushing: ReturnType<typeof setImmediate> | undefined;
  private everReady = false;
  private lastError: string | undefined;
  private closed = false;
  private hits = 0;
  private misses = 0;
  private operations = 0;

  constructor(options: RedisEngineOptions) {
    if (typeof options !== 'object' || options === null || typeof options.url !== 'string') {
      throw new TypeError('RedisEngine needs { url }, e.g. new RedisEngine({ url: "redis://127.0.0.1:6379" }).');
    }
    this.connectTimeoutMs = positive(options.connectTimeoutMs, 'connectTimeoutMs', 2000);
    this.commandTimeoutMs = positive(options.commandTimeoutMs, 'commandTimeoutMs', 5000);
    this.limit = options.limit === undefined ? 0 : positive(options.limit, 'limit', 0);
    this.limits = resolveLimits(options.limits);
    const target = parseRedisUrl(options.url);
    const keyPrefix = options.keyPrefix ?? target.keyPrefix ?? 'lix:';
    if (typeof keyPrefix !== 'string') throw new TypeError(`RedisEngine option "keyPrefix" must be a string; got ${String(keyPrefix)}.`);
    this.dataPrefix = `${keyPrefix}k:`;
    this.tagPrefix = `${keyPrefix}t:`;
    this.inlineTags = target.nodes.length === 0 || hasHashTag(keyPrefix);
    this.where = target.where;
    this.keysInfo = new RegExp(`^db${target.db}:keys=(\\d+)`, 'm');
    const connection: RedisOptions = {
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: this.commandTimeoutMs,
      // Fail fast while disconnected (503) rather than queue requests until Redis is back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
      username: target.username,
      password: target.password,
      tls: target.tls ? {} : undefined,
    };
    const retry = (times: number) => Math.min(50 * times, 1000);
    const client: Client =
      target.nodes.length > 0
        ? new Cluster(target.nodes as ClusterNode[], {
            enableOfflineQueue: false,
            enableAutoPipelining: true,
            clusterRetryStrategy: retry,
            slotsRefreshTimeout: this.connectTimeoutMs,
            // A down slot answers 503 within ~0.5 s instead of ~1.6 s of retries (16 × 100 ms);
            // 5 redirections still follow MOVED/ASK through a resharding.
            maxRedirections: 5,
            redisOptions: { ...connection, enableOfflineQueue: undefined } as RedisOptions,
          })
        : new Redis({ ...connection, host: target.host, port: target.port, db: target.db, retryStrategy: retry });
    client.defineCommand('lixBatch', { numberOfKeys: 1, lua: BATCH_SCRIPT });
    if (client instanceof Cluster) client.defineCommand('lixCrossSlotBatch', { numberOfKeys: 1, lua: CROSS_SLOT_BATCH_SCRIPT });
    client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    this.firstReady = new Promise((resolve) =>
      client.once('ready', () => {
        this.everReady = true;
        resolve();
      }),
    );
    this.client = client as Client & Scripts;
    this.feed = new RedisChangeFeed({
      client,
      dataPrefix: this.dataPrefix,
      changes: this.changes,
      connection: { connectTimeout: this.connectTimeoutMs, commandTimeout: this.commandTimeoutMs, username: target.username, password: target.password, tls: connection.tls },
    });
    if (client instanceof Cluster && !this.inlineTags) client.on('ready', () => void this.detectCrossSlot());
  }

  async execute(commands: readonly Command[]): Promise<Result[]> {
    if (this.client.status !== 'ready') await this.whenReady();
    this.operations += commands.length;
    const results = new Array<Result>(commands.length);
    try {
      // Synchronous unless value lengths must be asked: values are encoded in this same turn, as execute was called.
      let budget = this.chargeGets(commands, results);
      if (budget instanceof Promise) {
        commands = snapshotValues(commands, this.limits);
        budget = await budget;
      }
      let from = 0;
      for (let i = 0; i < commands.length; i++) {
        const command = commands[i]!;
        // Scans, invalidate and clear read what earlier commands wrote to several keys and tag sets: those go out and finish first.
        if (command.op === 'scan' || command.op === 'invalidate' || command.op === 'clear') {
          if (i > from) await this.perKey(commands, from, i, results, true);
          results[i] = await this.guard(command, this.multiKey(command, budget));
          from = i + 1;
        }
      }
      if (from < commands.length) await this.perKey(commands, from, commands.length, results, false);
    } catch (error) {
      throw this.unavailable(error);
    }
    return results;
  }

  async stats(): Promise<EngineStats> {
    if (this.client.status !== 'ready') await this.whenReady();
    let infos: string[];
    try {
      infos = await Promise.all(this.masters().map((node) => node.info()));
    } catch (error) {
      throw this.unavailable(error);
    }
    const maxMemories = infos.map((info) => sumInfo([info], INFO.maxMemory));
    return {
      engine: 'redis',
      size: sumInfo(infos, this.keysInfo),
      limit: this.limit,
      memory: sumInfo(infos, INFO.usedMemory),
      maxMemory: maxMemories.includes(0) ? 0 : maxMemories.reduce((a, b) => a + b, 0),
      hits: this.hits,
      misses: this.misses,
      evictions: sumInfo(infos, INFO.evicted),
      expirations: sumInfo(infos, INFO.expired),
      operations: this.operations,
    };
  }

  async health(): Promise<EngineHealth> {
    if (this.closed) return { ok: false, message: 'the engine is closed' };
    if (this.client.status !== 'ready') {
      try {
        // Answer a probe quickly: a first connection that works takes milliseconds.
        await this.whenReady(Math.min(this.connectTimeoutMs, 500));
      } catch {
        return { ok: false, message: this.unreachable() };
      }
    }
    if (this.client instanceof Cluster) return this.clusterHealth(this.client);
    try {
      await this.client.ping();
      return { ok: true };
    } catch (error) {
      return { ok: false, message: this.failure(error) };
    }
  }

  /**
   * The response budget of one `execute` call. Gets that would take the response past it are
   * answered `response_too_large` in `results` now, before any value is fetched: only when the
   * gets could exceed it at the largest value size (more than ~63 by default) are their value
   * lengths asked first (one pipelined HSTRLEN each); otherwise they are charged at that size,
   * which only matters to scans in the same batch (none: no budget is needed at all). Scans
   * charge the rest as they page.
   */
  private chargeGets(commands: readonly Command[], results: Result[]): ResponseBudget | undefined | Promise<ResponseBudget> {
    let gets = 0;
    let scans = false;
    for (const command of commands) {
      if (command.op === 'get') gets++;
      else if (command.op === 'scan') scans = true;
    }
    const reserved = gets * (this.limits.maxValueBytes + this.limits.maxKeyBytes + RESULT_OVERHEAD_BYTES);
    if (reserved <= this.limits.maxResponseBytes) {
      if (!scans) return undefined;
      const budget = new ResponseBudget(this.limits);
      budget.left -= reserved;
      return budget;
    }
    return this.measureGets(commands, results);
  }

  /** `chargeGets` for gets that could pass the budget: their value lengths, asked first, decide which are answered. */
  private async measureGets(commands: readonly Command[], results: Result[]): Promise<ResponseBudget> {
    const budget = new ResponseBudget(this.limits);
    const indexes: number[] = [];
    // A key this batch writes before reading it is charged at the largest size: its length is measured before the write.
    const written = new Set<string>();
    const worstAfterWrite: boolean[] = [];
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      if (command.op === 'get') {
        indexes.push(i);
        worstAfterWrite.push(written.has(command.key));
      } else if (command.op === 'set' || command.op === 'merge') written.add(command.key);
    }
    const lengths = await Promise.all(indexes.map((i) => this.client.hstrlen(this.dataPrefix + (commands[i] as GetCommand).key, 'v')));
    indexes.forEach((i, j) => {
      const command = commands[i] as GetCommand;
      // A missing key (length 0) costs its small not-found result.
      if (!budget.take(command.key, worstAfterWrite[j] ? this.limits.maxValueBytes : lengths[j]!)) results[i] = commandError(command, budget.error());
    });
    return budget;
  }

  /** Healthy when every slot's master is connected and every master says cluster_state:ok. */
  private async clusterHealth(cluster: Cluster): Promise<EngineHealth> {
    const masters = this.masters();
    const live = new Set(masters.map(nodeId));
    const lost = cluster.slots.find((owners) => owners[0] === undefined || !live.has(owners[0]));
    if (lost) {
      // The client dropped that master when it went away; reload the slot map so it connects to it again once it is back.
      cluster.refreshSlotsCache();
      return { ok: false, message: `the Redis Cluster master ${lost[0] ?? '(none)'} is unreachable, so part of the keyspace is` };
    }
    try {
      const states = await Promise.all(masters.map((node) => node.cluster('INFO') as Promise<string>));
      const failing = states.findIndex((info) => !info.includes('cluster_state:ok'));
      if (failing < 0) return { ok: true };
      return { ok: false, message: `Redis Cluster node ${nodeId(masters[failing]!)} reports the cluster is down (cluster_state is not ok)` };
    } catch (error) {
      return { ok: false, message: this.failure(error) };
    }
  }

  /**
   * Every change under this engine's keyPrefix, by any process sharing the Redis (or Cluster),
   * expiry, eviction and `clear` included, reported asynchronously as Redis sends it (this
   * engine's own writes too). The first watcher opens one tracking connection per master
   * (see RedisChangeFeed); `live` is true once tracking is set up on all of them and false
   * whenever that may no longer hold. Needs Redis 6+ (CLIENT TRACKING).
   */
  watch(listener: ChangeListener): Watch {
    return this.changes.watch(listener);
  }

  /** Also stops the change feed: watchers hear `live(false)` and nothing more. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.feed.stop();
    this.flush();
    await Promise.allSettled([...this.background]);
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  /** Script flags (`allow-cross-slot-keys`) came with Redis 7; older masters get one op per call. */
  private async detectCrossSlot(): Promise<void> {
    try {
      const info = await this.masters()[0]?.info('server');
      this.crossSlot = Number(/^redis_version:(\d+)/m.exec(info ?? '')?.[1]) >= 7;
    } catch {
      // Unknown until the next ready: one op per call meanwhile.
    }
  }

  /** Wait for the first connection (bounded); once connected, a lost connection fails at once. */
  private async whenReady(timeoutMs = this.connectTimeoutMs): Promise<void> {
    if (this.closed) throw lixError('unavailable', 'this RedisEngine was closed; create a new one');
    if (this.everReady) throw this.unavailable(undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unavailable(undefined)), timeoutMs);
    });
    try {
      await Promise.race([this.firstReady, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** For /health (operators): why the connection is down, as ioredis last said. */
  private unreachable(): string {
    return `Redis at ${this.where} is unreachable (${this.lastError ?? 'no connection yet'})`;
  }

  /**
   * The error `execute` rejects with: `unavailable` for anything that is not a command's own
   * error, one fixed message per cause (see redis-failures.ts), ioredis's own error as `cause`.
   */
  private unavailable(error: unknown): LixError {
    if (error instanceof LixError) return error;
    const unavailable = lixError('unavailable', this.failure(error));
    if (error !== undefined) unavailable.cause = error;
    return unavailable;
  }

  /** What Redis failing with `error` (undefined: not connected) means, in words that never change with ioredis's timing. */
  private failure(error: unknown): string {
    switch (this.client.status === 'ready' && error !== undefined ? classifyRedisFailure(error) : 'unreachable') {
      case 'unreachable':
        return `Redis at ${this.where} is unreachable`;
      case 'timeout':
        return `Redis at ${this.where} did not answer within ${this.commandTimeoutMs} ms (commandTimeoutMs)`;
      case 'out_of_memory':
        return `Redis at ${this.where} is out of memory and refuses writes (set maxmemory-policy allkeys-lru on Redis to evict, or raise its maxmemory)`;
      default:
        return `Redis at ${this.where} failed unexpectedly`;
    }
  }

  /** A command's result, or its own error as its result; a failure of Redis itself rejects. */
  private async guard(command: Command, work: Promise<Result> | Result): Promise<Result> {
    try {
      return await work;
    } catch (error) {
      const own = this.commandError(command, error);
      if (own) return commandError(command, own);
      throw error;
    }
  }

  /** A command's own error (becomes its ErrorResult), or undefined when Redis itself failed. */
  private commandError(command: Command, error: unknown): LixError | undefined {
    if (error instanceof LixError) return error.code === 'unavailable' ? undefined : error;
    // A JavaScript error raised by our own code is this command's bug, not Redis being away.
    if (error instanceof SyntaxError || error instanceof TypeError || error instanceof RangeError) return lixError('internal', error.message);
    if ((error as Error | undefined)?.name !== 'ReplyError') return undefined;
    // Redis 7 puts "ERR " before script errors that carry no code of their own.
    const message = (error as Error).message.replace(/^ERR /, '');
    if (isUnavailableReply(message)) return undefined;
    const key = 'key' in command ? command.key : '';
    if (message.startsWith('non_numeric')) return lixError('non_numeric', key);
    if (message.startsWith('not_object')) return lixError('not_object', key);
    if (message.startsWith('value_too_large')) return lixError('value_too_large', Number(message.split(' ')[1]), this.limits.maxValueBytes);
    if (message.startsWith('not_finite')) {
      const amount = (command as IncrCommand).amount ?? 1;
      return lixError('invalid_amount', `${amount}, which would take "${key}" out of the range of finite numbers`);
    }
    if (message.startsWith('WRONGTYPE')) {
      return lixError('internal', `Redis key "${this.dataPrefix}${key}" holds data Lix Cache did not write (${message}); give this engine its own keyPrefix`);
    }
    return lixError('internal', `Redis replied ${message}`);
  }

  /**
   * Run commands[from..to) (per-key ones) into `results`. They join this event-loop turn's
   * script calls, one per Redis master (`now`: sent at once, else at the end of the turn), or
   * go alone when the master is not known.
   */
  private perKey(commands: readonly Command[], from: number, to: number, results: Result[], now: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { results, left: to - from, resolve, reject };
      for (let i = from; i < to; i++) {
        const command = commands[i] as PerKeyCommand;
        // Answered already (a get past the response budget).
        if (results[i] !== undefined) {
          if (--waiting.left === 0) resolve();
          continue;
        }
        const node = this.nodeOf(this.dataPrefix + command.key);
        let chunk = node === undefined ? undefined : this.open.get(node);
        if (chunk === undefined) {
          chunk = { argv: [], chars: 0, items: [] };
          if (node !== undefined) this.open.set(node, chunk);
        }
        const at = chunk.argv.length;
        try {
          this.encode(command, chunk.argv);
        } catch (error) {
          chunk.argv.length = at;
          this.fill(waiting, i, command, error);
          continue;
        }
        chunk.items.push({ command, index: i, waiting });
        for (let j = at; j < chunk.argv.length; j++) chunk.chars += chunk.argv[j]!.length;
        if (node === undefined) this.sendChunk(chunk);
        else if (chunk.items.length === OPS_PER_CALL || chunk.chars >= CHARS_PER_CALL) {
          this.open.delete(node);
          this.sendChunk(chunk);
        }
      }
      if (this.open.size > 0) {
        // Per turn rather than per call: concurrent requests share script calls.
        if (now) this.flush();
        else this.flushing ??= setImmediate(this.flush);
      }
    });
  }

  /** Send the script calls this turn filled. */
  private readonly flush = (): void => {
    if (this.flushing !== undefined) clearImmediate(this.flushing);
    this.flushing = undefined;
    for (const chunk of this.open.values()) this.sendChunk(chunk);
    this.open.clear();
  };

  /**
   * The master a key's op is grouped under: '' for all when tags are inline (one slot, or
   * standalone); in a Cluster the slot's master, or undefined (the op goes alone) until
   * masters are known to run a script over keys of several slots.
   */
  private nodeOf(key: string): string | undefined {
    if (this.inlineTags) return '';
    if (!this.crossSlot) return undefined;
    return (this.client as Cluster).slots[calculateSlot(key)]?.[0];
  }

  private sendChunk({ argv, items }: Chunk): void {
    if (items.length === 0) return;
    this.send(argv).then(
      (replies) => {
        for (let i = 0; i < items.length; i++) {
          const { command, index, waiting } = items[i]!;
          const reply = replies[i];
          if (reply instanceof Error) this.fill(waiting, index, command, reply);
          else this.decodeInto(waiting, index, command, reply);
        }
      },
      (error: unknown) => {
        for (const { command, index, waiting } of items) this.fill(waiting, index, command, error);
      },
    );
  }

  private decodeInto(waiting: Waiting, index: number, command: PerKeyCommand, reply: unknown): void {
    let result: Result | Promise<Result>;
    try {
      result = this.decode(command, reply);
    } catch (error) {
      this.fill(waiting, index, command, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (done) => this.fill(waiting, index, command, undefined, done),
        (error: unknown) => this.fill(waiting, index, command, error),
      );
    } else this.fill(waiting, index, command, undefined, result);
  }

  /** Record a command's result, or its failure: its own error becomes its result, a failure of Redis fails the call. */
  private fill(waiting: Waiting, index: number, command: Command, error: unknown, result?: Result): void {
    if (error !== undefined) {
      const own = this.commandError(command, error);
      if (!own) {
        waiting.reject(error);
        return;
      }
      result = commandError(command, own);
    }
    waiting.results[index] = result!;
    if (--waiting.left === 0) waiting.resolve();
  }

  /** One script call over ops encoded by `encode`: one reply per op, an op's error being an Error in its place. */
  private send(argv: string[]): Promise<unknown[]> {
    return this.sendOnce(argv).catch((error: unknown) => {
      // Nothing ran, so once more: NOSCRIPT from a master that restarted (ioredis's autopipelined Cluster
      // calls load scripts on a random node; it now sends this socket EVAL), or a MOVED that ioredis did
      // not follow (an autopipeline with mixed replies) after a slot changed master.
      if (error instanceof Error && /^(NOSCRIPT|MOVED) /.test(error.message)) {
        if (this.client instanceof Cluster && error.message.startsWith('MOVED')) this.client.refreshSlotsCache();
        return this.sendOnce(argv);
      }
      throw error;
    });
  }

  private sendOnce(argv: string[]): Promise<unknown[]> {
    if (this.inlineTags) return this.client.lixBatch(argv[0]!, this.tagPrefix, this.dataPrefix, argv);
    if (!this.crossSlot) return this.client.lixBatch(argv[0]!, '', this.dataPrefix, argv);
    return this.client.lixCrossSlotBatch(argv[0]!, '', this.dataPrefix, argv).then((replies) => this.retryMoved(argv, replies));
  }

  /**
   * Cluster: ops whose key is no longer on the master the call went to (resharding, or a stale
   * slot map) run again alone, routed by their own key (ioredis follows MOVED and ASK).
   */
  private async retryMoved(argv: readonly string[], replies: unknown[]): Promise<unknown[]> {
    if (!replies.some(isNonLocal)) return replies;
    (this.client as Cluster).refreshSlotsCache();
    const retries: Promise<void>[] = [];
    let at = 0;
    for (let i = 0; i < replies.length; i++) {
      const end = at + 3 + Number(argv[at + 2]);
      if (isNonLocal(replies[i])) {
        const op = argv.slice(at, end);
        retries.push(this.client.lixBatch(op[0]!, '', this.dataPrefix, op).then(([reply]) => void (replies[i] = reply)));
      }
      at = end;
    }
    await Promise.all(retries);
    return replies;
  }

  /** Ops outside `execute` (scans, invalidate, tag upkeep), sent at once, grouped as `perKey` does; rejects on any op's error. */
  private async ops(ops: readonly Op[]): Promise<unknown[]> {
    const replies = new Array<unknown>(ops.length);
    const calls: Promise<void>[] = [];
    const groups = new Map<string, { argv: string[]; indexes: number[] }>();
    const send = ({ argv, indexes }: { argv: string[]; indexes: number[] }) =>
      calls.push(this.send(argv).then((got) => indexes.forEach((index, j) => void (replies[index] = got[j]))));
    ops.forEach(({ key, name, args }, index) => {
      const node = this.nodeOf(key);
      let group = node === undefined ? undefined : groups.get(node);
      if (group === undefined) {
        group = { argv: [], indexes: [] };
        if (node !== undefined) groups.set(node, group);
      }
      group.argv.push(key, name, String(args.length), ...args);
      group.indexes.push(index);
      if (node === undefined) send(group);
      else if (group.indexes.length === OPS_PER_CALL) {
        groups.delete(node);
        send(group);
      }
    });
    for (const group of groups.values()) send(group);
    await Promise.all(calls);
    const failed = replies.find((reply) => reply instanceof Error);
    if (failed) throw failed;
    return replies;
  }

  /** Append a per-key command to a script call's ARGV: key, op name, argument count, arguments. */
  private encode(command: PerKeyCommand, argv: string[]): void {
    const at = argv.length;
    argv.push(this.dataPrefix + command.key, command.op, '');
    switch (command.op) {
      case 'get':
        argv.push(command.touch === undefined ? '' : ttlArg(command.touch), command.withTags ? '1' : '');
        break;
      case 'set':
        argv.push(encodeValue(command.value, this.limits), ttlArg(command.ttl), command.nx ? 'nx' : command.xx ? 'xx' : '');
        if (command.tags !== undefined) for (const tag of command.tags) argv.push(`t:${tag}`);
        break;
      case 'merge':
        argv.push(command.ttl === undefined ? '' : ttlArg(command.ttl), String(this.limits.maxValueBytes));
        for (const [field, value] of Object.entries(command.value)) {
          // What JSON.stringify drops from an object (undefined, functions) removes the field, as in MemoryEngine's {...old, ...patch}.
          const dropped = value === undefined || typeof value === 'function' || typeof value === 'symbol';
          argv.push(JSON.stringify(field), dropped ? '' : encodeValue(value, this.limits));
        }
        break;
      case 'incr':
      case 'decr': {
        const amount = command.amount ?? 1;
        argv[at + 1] = 'incr';
        argv.push(String(command.op === 'incr' ? amount : -amount), ttlArg(command.ttl));
        break;
      }
      case 'expire':
        argv.push(ttlArg(command.ttl));
        break;
      case 'delete':
      case 'exists':
        break;
    }
    argv[at + 2] = String(argv.length - at - 3);
  }

  /** The result of a per-key op's reply; with external tags, also the tag-set upkeep it calls for. */
  private decode(command: PerKeyCommand, reply: unknown): Result | Promise<Result> {
    const { key } = command;
    switch (command.op) {
      case 'get': {
        if (reply === null) {
          this.misses++;
          return { op: 'get', key, value: null, ttl: null, found: false };
        }
        this.hits++;
        const [raw, pttl] = reply as [string, number, ...string[]];
        const result: GetResult = { op: 'get', key, value: JSON.parse(raw) as Json, ttl: ttlOf(pttl), found: true };
        // Tag fields follow when asked for, or (external tags) when a touch must stretch the tags' sets.
        const tags = (reply as string[]).length > 2 ? tagsOf(reply as string[], 2) : [];
        if (command.touch !== undefined && !this.inlineTags && tags.length > 0) this.stretchTags(key, tags, ttlArg(command.touch));
        if (command.withTags) result.tags = tags;
        return result;
      }
      case 'set':
        if (reply === null) return { op: 'set', key, success: true, written: false };
        return this.inlineTags ? { op: 'set', key, success: true, written: true } : this.tagSet(command, reply as string[]);
      case 'merge':
        if (reply === 0) return { op: 'merge', key, success: false };
        if ((reply as unknown[]).length > 1) this.stretchTags(key, tagsOf(reply as string[], 1), ttlArg(command.ttl));
        return { op: 'merge', key, success: true };
      case 'incr':
      case 'decr':
        return { op: command.op, key, value: Number(reply) };
      case 'delete': {
        const [deleted] = reply as [0 | 1, ...string[]];
        if ((reply as unknown[]).length > 1) this.inBackground(this.untag(key, tagsOf(reply as string[], 1)));
        return { op: 'delete', key, success: true, deleted: deleted === 1 };
      }
      case 'exists':
        return { op: 'exists', key, exists: reply === 1 };
      case 'expire':
        if (reply === null) return { op: 'expire', key, success: false };
        if ((reply as unknown[]).length > 0) this.stretchTags(key, tagsOf(reply as string[]), ttlArg(command.ttl));
        return { op: 'expire', key, success: true };
    }
  }

  private multiKey(command: ScanCommand | InvalidateCommand | ClearCommand, budget: ResponseBudget | undefined): Promise<Result> {
    if (command.op === 'scan') return command.tag === undefined ? this.scanPrefix(command, budget!) : this.scanTag(command, command.tag, budget!);
    if (command.op === 'invalidate') return this.invalidate(command.tag);
    return this.clear();
  }

  /**
   * External tags: after a set, drop the key from tags it left (in the background) and add it to
   * its tags' sets; the result waits for those, so a key is in its tags' sets once `set` answers.
   */
  private async tagSet(command: SetCommand, old: readonly string[]): Promise<Result> {
    const { key, tags } = command;
    if (old.length > 0) {
      const left = tagsOf(old).filter((tag) => tags === undefined || !tags.includes(tag));
      if (left.length > 0) this.inBackground(this.untag(key, left));
    }
    if (tags !== undefined && tags.length > 0) {
      const ttl = ttlArg(command.ttl);
      const samples = await this.ops(tags.map((tag) => ({ key: this.tagPrefix + tag, name: 'tagAdd', args: [key, ttl] })));
      tags.forEach((tag, i) => {
        const others = (samples[i] as string[]).filter((member) => member !== key);
        if (others.length > 0) this.inBackground(this.pruneDead(tag, others));
      });
    }
    return { op: 'set', key, success: true, written: true };
  }

  /**
   * External tags: a key's TTL changed, so its tags' sets must live at least as long. Not awaited,
   * so a sliding session costs one round trip; the stretch is queued on the tag's node right behind
   * the reply, and adding the key again repairs a set that was lost meanwhile.
   */
  private stretchTags(key: string, tags: readonly string[], ttl: string): void {
    this.inBackground(this.ops(tags.map((tag) => ({ key: this.tagPrefix + tag, name: 'tagStretch', args: [key, ttl] }))).then(() => undefined));
  }

  /** Remove `key` from tags it no longer carries. */
  private untag(key: string, tags: readonly string[]): Promise<void> {
    return Promise.all(tags.map((tag) => this.removeMembers(tag, [key]))).then(() => undefined);
  }

  /** External tags: check members of a tag and remove those that no longer carry it. */
  private async pruneDead(tag: string, members: readonly string[]): Promise<void> {
    const alive = await this.tagged(tag, members, false);
    const dead = members.filter((_, i) => alive[i] === null);
    if (dead.length > 0) await this.removeMembers(tag, dead);
  }

  /** `tagged` ops: per member null unless it is live and carries the tag (inline tags: others leave the set), else [pttl, value?]. */
  private tagged(tag: string, members: readonly string[], withValue: boolean): Promise<([number, string?] | null)[]> {
    const args = [`t:${tag}`, withValue ? '1' : '0'];
    return this.ops(members.map((member) => ({ key: this.dataPrefix + member, name: 'tagged', args }))) as Promise<([number, string?] | null)[]>;
  }

  /**
   * External tags: SREM, then check each member again and put back any that carries the tag
   * now: a concurrent set may have tagged it between our check and the SREM (its own SADD
   * landing before our SREM), and this keeps that membership.
   */
  private async removeMembers(tag: string, members: readonly string[]): Promise<void> {
    const tagKey = this.tagPrefix + tag;
    const removals: Promise<number>[] = [];
    for (let i = 0; i < members.length; i += SREM_CHUNK) removals.push(this.client.srem(tagKey, ...members.slice(i, i + SREM_CHUNK)));
    await Promise.all(removals);
    const again = await this.tagged(tag, members, false);
    const back: Op[] = [];
    for (let i = 0; i < members.length; i++) {
      const alive = again[i];
      if (alive) back.push({ key: tagKey, name: 'tagAdd', args: [members[i]!, pttlArg(alive[0])] });
    }
    if (back.length > 0) await this.ops(back);
  }

  private inBackground(work: Promise<void>): void {
    const tracked = work.catch(() => undefined); // stale index entries are harmless: readers check them, pruning removes them later
    this.background.add(tracked);
    void tracked.then(() => this.background.delete(tracked));
  }
  /** Masters in a stable order (a prefix scan's cursor names one). */
  private masters(): Redis[] {
    if (this.client instanceof Redis) return [this.client];
    return this.client.nodes('master').sort((a, b) => nodeId(a).localeCompare(nodeId(b)));
  }

  /**
   * The masters a prefix scan walks, ordered by their first slot (stable across failovers and
   * host changes, unlike host:port), and the slot layout they serve; rejects with `unavailable`
   * when a slot has no connected master (a scan must not silently skip its keys).
   */
  private scanNodes(): { nodes: Redis[]; layout: string } {
    if (this.client instanceof Redis) return { nodes: [this.client], layout: '' };
    const byId = new Map(this.client.nodes('master').map((node) => [nodeId(node), node]));
    const nodes: Redis[] = [];
    const order = new Map<string, number>();
    let layout = '';
    let previous: string | undefined;
    const { slots } = this.client;
    for (let slot = 0; slot < 16384; slot++) {
      const owner = slots[slot]?.[0];
      const node = owner === undefined ? undefined : byId.get(owner);
      if (node === undefined) {
        this.client.refreshSlotsCache();
        throw this.unavailable(undefined);
      }
      if (owner === previous) continue;
      previous = owner;
      let index = order.get(owner!);
      if (index === undefined) {
        index = nodes.push(node) - 1;
        order.set(owner!, index);
      }
      layout += `${slot}:${index},`;
    }
    return { nodes, layout };
  }

  /** A prefix cursor's check: the slot layout and the master's run id (new on every restart), hashed. */
  private async scanCheck(node: Redis, layout: string): Promise<string> {
    let runId = this.runIds.get(node);
    if (runId === undefined) {
      runId = node.info('server').then((info) => /^run_id:(\w+)/m.exec(info)?.[1] ?? '');
      this.runIds.set(node, runId);
      runId.catch(() => this.runIds.delete(node));
      node.once('close', () => this.runIds.delete(node));
    }
    return createHash('sha256').update(`${layout}|${await runId}`).digest('base64url').slice(0, 12);
  }

  private async scanPrefix(command: ScanCommand, budget: ResponseBudget): Promise<ScanResult> {
    const limit = command.limit ?? DEFAULT_SCAN_LIMIT;
    const keysOnly = command.keysOnly === true;
    const { nodes, layout } = this.scanNodes();
    const start = command.cursor ? decodeRedisCursor(command.cursor, 'prefix') : undefined;
    let nodeIndex = 0;
    if (start !== undefined) {
      nodeIndex = start.node;
      if (nodeIndex >= nodes.length || (await this.scanCheck(nodes[nodeIndex]!, layout)) !== start.check) {
        throw lixError(
          'invalid_scan',
          'This cursor can no longer resume its scan: since it was returned, the Redis node it was scanning restarted or the Redis Cluster moved slots between masters. Start the scan again without a cursor.',
        );
      }
    }
    let redisCursor = start?.redisCursor ?? '0';
    let after = start?.after ?? '';
    // A cursor is client input: never let it ask Redis for a longer call than we would make.
    let count = Math.min(start?.count ?? SCAN_COUNT, SCAN_COUNT_MAX);
    const pattern = `${escapeGlob(this.dataPrefix + (command.prefix ?? ''))}*`;
    const skip = this.dataPrefix.length;
    const keys: string[] = [];
    const items: ScanItem[] = [];
    /** A cursor that resumes this walk after the key before `batch[i]`. */
    const resumeAt = async (node: Redis, batch: string[], i: number) =>
      encodeRedisCursor({ kind: 'prefix', node: nodeIndex, check: await this.scanCheck(node, layout), redisCursor, count, after: i > 0 ? batch[i - 1]! : after });
    for (;;) {
      const node = nodes[nodeIndex]!;
      const [next, found] = await node.scan(redisCursor, 'MATCH', pattern, 'COUNT', count);
      // SCAN may repeat a key; sorting the batch lets a cursor resume inside it after the last key returned.
      let batch = [...new Set(found)].map((raw) => raw.slice(skip)).sort();
      if (after !== '') batch = batch.filter((key) => key > after);
      const sparse = batch.length < limit - keys.length - items.length;
      let i = 0;
      while (i < batch.length) {
        const taken = keys.length + items.length;
        if (taken === limit) return page(keysOnly, keys, items, await resumeAt(node, batch, i));
        // Values are fetched only as many at a time as the response budget could hold at the largest size.
        const chunk = batch.slice(i, i + (keysOnly ? limit - taken : budget.chunk(limit - taken)));
        const replies = keysOnly ? undefined : ((await this.ops(chunk.map((key) => ({ key: this.dataPrefix + key, name: 'get', args: ['', ''] })))) as ([string, number] | null)[]);
        for (let j = 0; j < chunk.length; j++, i++) {
          const key = chunk[j]!;
          const reply = replies?.[j];
          if (replies && !reply) continue;
          // Past the response budget the page ends early, with a cursor at the key before this one.
          if (!budget.take(key, reply ? reply[0].length : undefined)) {
            if (keys.length + items.length === 0) throw budget.error();
            return page(keysOnly, keys, items, await resumeAt(node, batch, i));
          }
          if (reply) items.push({ key, value: JSON.parse(reply[0]) as Json, ttl: ttlOf(reply[1]) });
          else keys.push(key);
        }
      }
      after = '';
      if (sparse) count = Math.min(count * 4, SCAN_COUNT_MAX);
      if (next !== '0') redisCursor = next;
      else if (++nodeIndex < nodes.length) redisCursor = '0';
      else return page(keysOnly, keys, items, null);
    }
  }

  private async scanTag(command: ScanCommand, tag: string, budget: ResponseBudget): Promise<ScanResult> {
    const limit = command.limit ?? DEFAULT_SCAN_LIMIT;
    const keysOnly = command.keysOnly === true;
    const prefix = command.prefix ?? '';
    const after = command.cursor ? decodeRedisCursor(command.cursor, 'tag').after : '';
    const members = (await this.client.smembers(this.tagPrefix + tag)).filter((key) => key.startsWith(prefix) && key > after).sort();
    const keys: string[] = [];
    const items: ScanItem[] = [];
    const dead: string[] = [];
    let i = 0;
    let more = false;
    // Check members a page at a time (plus one, to know whether another page follows).
    while (i < members.length && !more) {
      // Values are fetched only as many at a time as the response budget could hold at the largest size.
      const wanted = limit + 1 - keys.length - items.length;
      const chunk = members.slice(i, i + (keysOnly ? wanted : budget.chunk(wanted)));
      i += chunk.length;
      const replies = await this.tagged(tag, chunk, !keysOnly);
      for (let j = 0; j < chunk.length; j++) {
        const reply = replies[j];
        const key = chunk[j]!;
        if (!reply) dead.push(key);
        else if (keys.length + items.length === limit) {
          more = true;
          break;
        } else if (!budget.take(key, keysOnly ? undefined : reply[1]!.length)) {
          // Past the response budget the page ends early, with a cursor at the last key it holds.
          if (keys.length + items.length === 0) throw budget.error();
          more = true;
          break;
        } else if (keysOnly) keys.push(key);
        else items.push({ key, value: JSON.parse(reply[1]!) as Json, ttl: ttlOf(reply[0]) });
      }
    }
    // Inline tags: the script dropped them already.
    if (dead.length > 0 && !this.inlineTags) await this.removeMembers(tag, dead);
    const last = keysOnly ? keys.at(-1) : items.at(-1)?.key;
    return page(keysOnly, keys, items, more ? encodeRedisCursor({ kind: 'tag', after: last! }) : null);
  }

  private async invalidate(tag: string): Promise<Result> {
    const members = await this.client.smembers(this.tagPrefix + tag);
    const field = `t:${tag}`;
    const replies = (await this.ops(members.map((key) => ({ key: this.dataPrefix + key, name: 'deleteIfTagged', args: [field] })))) as (string[] | null)[];
    let deleted = 0;
    for (let i = 0; i < members.length; i++) {
      const fields = replies[i];
      if (!fields) continue;
      deleted++;
      const others = tagsOf(fields).filter((other) => other !== tag);
      if (others.length > 0) this.inBackground(this.untag(members[i]!, others));
    }
    // Inline tags: the script took every member out of its sets already.
    if (members.length > 0 && !this.inlineTags) await this.removeMembers(tag, members);
    return { op: 'invalidate', tag, deleted };
  }

  /** Deletes this engine's keys and tag sets only (by keyPrefix), on every master. */
  private async clear(): Promise<Result> {
    let cleared = 0;
    for (const node of this.masters()) {
      for (const prefix of [this.dataPrefix, this.tagPrefix]) {
        const pattern = `${escapeGlob(prefix)}*`;
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
          cursor = next;
          const removed = await Promise.all(found.map((key) => node.unlink(key)));
          if (prefix === this.dataPrefix) for (const n of removed) cleared += n;
        } while (cursor !== '0');
      }
    }
    return { op: 'clear', success: true, cleared };
  }
}

/** A script op's error for a key its master no longer serves. */
function isNonLocal(reply: unknown): boolean {
  return reply instanceof Error && reply.message.includes('non local key');
}

/** Whether every key with this prefix hashes to one Cluster slot: the prefix holds a complete, non-empty {hash tag}. */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
}

function nodeId(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

function page(keysOnly: boolean, keys: string[], items: ScanItem[], cursor: string | null): ScanResult {
  return keysOnly ? { op: 'scan', keys, count: keys.length, cursor } : { op: 'scan', items, count: items.length, cursor };
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`RedisEngine option "${name}" must be a positive number; got ${String(value)}.`);
  }
  return value;
}
