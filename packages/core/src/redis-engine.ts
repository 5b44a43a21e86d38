import { Cluster, Redis } from 'ioredis';
import type { ClusterNode, RedisOptions } from 'ioredis';
import type {
  Command,
  ErrorResult,
  GetCommand,
  IncrCommand,
  Json,
  MergeCommand,
  Result,
  ScanCommand,
  ScanItem,
  ScanResult,
  SetCommand,
} from './commands';
import type { Engine, EngineHealth, EngineStats } from './engine';
import { LixError, lixError } from './errors';
import type { Limits } from './limits';
import { DEFAULT_SCAN_LIMIT, resolveLimits } from './limits';
import { decodeRedisCursor, encodeRedisCursor } from './redis-cursor';
import {
  DELETE_IF_TAGGED_SCRIPT,
  DELETE_SCRIPT,
  EXPIRE_SCRIPT,
  GET_SCRIPT,
  INCR_SCRIPT,
  MERGE_SCRIPT,
  SET_SCRIPT,
  TAG_ADD_SCRIPT,
  TAG_STRETCH_SCRIPT,
  TAGGED_SCRIPT,
} from './redis-scripts';
import { parseRedisUrl } from './redis-url';
import { encodeValue } from './validate';

export { parseRedisUrl, type RedisTarget } from './redis-url';

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

/** The Lua scripts, as the methods ioredis `defineCommand` adds (EVALSHA, EVAL on NOSCRIPT). */
interface Scripts {
  lixGet(key: string, touchMs: string): Promise<[string, number, ...string[]] | null>;
  lixSet(key: string, value: string, ttlMs: string, mode: string, ...tagFields: string[]): Promise<string[] | null>;
  lixMerge(key: string, ttlMs: string, maxBytes: string, ...namesAndValues: string[]): Promise<0 | [1, ...string[]]>;
  lixIncr(key: string, amount: string, ttlMs: string): Promise<string>;
  lixDelete(key: string): Promise<[0 | 1, ...string[]]>;
  lixExpire(key: string, ttlMs: string): Promise<string[] | null>;
  lixTagged(key: string, tagField: string, withValue: '0' | '1'): Promise<[number, string?] | null>;
  lixDeleteIfTagged(key: string, tagField: string): Promise<string[] | null>;
  lixTagAdd(tagKey: string, member: string, ttlMs: string): Promise<string[]>;
  lixTagStretch(tagKey: string, ttlMs: string): Promise<number>;
}

const SCRIPTS: Record<keyof Scripts, string> = {
  lixGet: GET_SCRIPT,
  lixSet: SET_SCRIPT,
  lixMerge: MERGE_SCRIPT,
  lixIncr: INCR_SCRIPT,
  lixDelete: DELETE_SCRIPT,
  lixExpire: EXPIRE_SCRIPT,
  lixTagged: TAGGED_SCRIPT,
  lixDeleteIfTagged: DELETE_IF_TAGGED_SCRIPT,
  lixTagAdd: TAG_ADD_SCRIPT,
  lixTagStretch: TAG_STRETCH_SCRIPT,
};

/** Redis replies that mean "not serving right now", not "this command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|READONLY|NOREPLICAS|BUSY|OOM)\b/;

/** Keys per SCAN call: larger means fewer round trips when few keys match. */
const SCAN_COUNT = 1000;
/** Arguments per SREM, so a huge tag never builds one giant command. */
const SREM_CHUNK = 1000;

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
 * per-key steps run as Lua scripts (atomic), tag indexes are Redis sets kept
 * in step by extra commands (see redis-scripts.ts for the layout).
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
  private readonly where: string;
  /** INFO keyspace line of our db. */
  private readonly keysInfo: RegExp;
  private readonly connectTimeoutMs: number;
  private readonly firstReady: Promise<void>;
  /** Tag-index upkeep that no result waits for (dropping a key from tags it left). */
  private readonly background = new Set<Promise<void>>();
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
    const commandTimeout = positive(options.commandTimeoutMs, 'commandTimeoutMs', 5000);
    this.limit = options.limit === undefined ? 0 : positive(options.limit, 'limit', 0);
    this.limits = resolveLimits(options.limits);
    const target = parseRedisUrl(options.url);
    const keyPrefix = options.keyPrefix ?? target.keyPrefix ?? 'lix:';
    if (typeof keyPrefix !== 'string') throw new TypeError(`RedisEngine option "keyPrefix" must be a string; got ${String(keyPrefix)}.`);
    this.dataPrefix = `${keyPrefix}k:`;
    this.tagPrefix = `${keyPrefix}t:`;
    this.where = target.where;
    this.keysInfo = new RegExp(`^db${target.db}:keys=(\\d+)`, 'm');
    const connection: RedisOptions = {
      connectTimeout: this.connectTimeoutMs,
      commandTimeout,
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
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      client.defineCommand(name, { numberOfKeys: 1, lua });
    }
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
  }

  async execute(commands: readonly Command[]): Promise<Result[]> {
    if (this.client.status !== 'ready') await this.whenReady();
    this.operations += commands.length;
    const pending = new Array<Promise<Result>>(commands.length);
    let settledUpTo = 0;
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      // Scans, invalidate and clear read what earlier commands wrote to several keys and tag sets: wait for those first.
      if (command.op === 'scan' || command.op === 'invalidate' || command.op === 'clear') {
        await this.settle(pending.slice(settledUpTo, i));
        pending[i] = this.run(command);
        await this.settle([pending[i]!]);
        settledUpTo = i + 1;
      } else {
        pending[i] = this.run(command);
      }
    }
    try {
      return await Promise.all(pending);
    } catch (error) {
      throw this.unavailable(error);
    }
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
      return { ok: false, message: `Redis at ${this.where} does not answer: ${(error as Error).message}` };
    }
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
      return { ok: false, message: `Redis Cluster at ${this.where} does not answer: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.background]);
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  /** Wait for the first connection (bounded); once connected, a lost connection fails at once. */
  private async whenReady(timeoutMs = this.connectTimeoutMs): Promise<void> {
    if (this.closed) throw lixError('unavailable', 'this RedisEngine was closed; create a new one');
    if (this.everReady) throw lixError('unavailable', this.unreachable());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(lixError('unavailable', this.unreachable())), timeoutMs);
    });
    try {
      await Promise.race([this.firstReady, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private unreachable(): string {
    return `Redis at ${this.where} is unreachable (${this.lastError ?? 'no connection yet'})`;
  }

  /** The error `execute` rejects with: `unavailable` for anything that is not a command's own error. */
  private unavailable(error: unknown): LixError {
    if (error instanceof LixError) return error;
    if (this.client.status !== 'ready') return lixError('unavailable', this.unreachable());
    return lixError('unavailable', `Redis at ${this.where} failed: ${(error as Error).message}`);
  }

  /** Wait for commands; a connection failure among them rejects (the batch then rejects as a whole). */
  private async settle(pending: Promise<Result>[]): Promise<void> {
    try {
      await Promise.all(pending);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private async run(command: Command): Promise<Result> {
    try {
      return await this.dispatch(command);
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
    if (UNAVAILABLE_REPLY.test(message)) return undefined;
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

  private dispatch(command: Command): Promise<Result> {
    switch (command.op) {
      case 'get':
        return this.get(command);
      case 'set':
        return this.set(command);
      case 'merge':
        return this.merge(command);
      case 'delete':
        return this.delete(command.key);
      case 'exists':
        return this.client.exists(this.dataPrefix + command.key).then((n) => ({ op: 'exists', key: command.key, exists: n === 1 }));
      case 'incr':
      case 'decr':
        return this.incr(command);
      case 'expire':
        return this.expire(command.key, command.ttl);
      case 'scan':
        return command.tag === undefined ? this.scanPrefix(command) : this.scanTag(command, command.tag);
      case 'invalidate':
        return this.invalidate(command.tag);
      case 'clear':
        return this.clear();
    }
  }

  private async get(command: GetCommand): Promise<Result> {
    const touch = command.touch === undefined ? '' : ttlArg(command.touch);
    const reply = await this.client.lixGet(this.dataPrefix + command.key, touch);
    if (reply === null) {
      this.misses++;
      return { op: 'get', key: command.key, value: null, ttl: null, found: false };
    }
    this.hits++;
    if (reply.length > 2) await this.stretchTags(tagsOf(reply, 2), touch);
    return { op: 'get', key: command.key, value: JSON.parse(reply[0]) as Json, ttl: ttlOf(reply[1]), found: true };
  }

  private async set(command: SetCommand): Promise<Result> {
    const { key, tags } = command;
    const raw = encodeValue(command.value, this.limits);
    const ttl = ttlArg(command.ttl);
    const mode = command.nx ? 'nx' : command.xx ? 'xx' : '';
    const tagFields = tags === undefined ? [] : tags.map((tag) => `t:${tag}`);
    const old = await this.client.lixSet(this.dataPrefix + key, raw, ttl, mode, ...tagFields);
    if (old === null) return { op: 'set', key, success: true, written: false };
    if (old.length > 0) {
      const left = tagsOf(old).filter((tag) => tags === undefined || !tags.includes(tag));
      if (left.length > 0) this.inBackground(this.untag(key, left));
    }
    if (tags !== undefined && tags.length > 0) await Promise.all(tags.map((tag) => this.tagAdd(tag, key, ttl)));
    return { op: 'set', key, success: true, written: true };
  }

  private async merge(command: MergeCommand): Promise<Result> {
    const { key } = command;
    const args: string[] = [];
    for (const [name, value] of Object.entries(command.value)) {
      // What JSON.stringify drops from an object (undefined, functions) removes the field, as in MemoryEngine's {...old, ...patch}.
      const dropped = value === undefined || typeof value === 'function' || typeof value === 'symbol';
      args.push(JSON.stringify(name), dropped ? '' : encodeValue(value, this.limits));
    }
    const ttl = command.ttl === undefined ? '' : ttlArg(command.ttl);
    const reply = await this.client.lixMerge(this.dataPrefix + key, ttl, String(this.limits.maxValueBytes), ...args);
    if (reply === 0) return { op: 'merge', key, success: false };
    if (reply.length > 1) await this.stretchTags(tagsOf(reply, 1), ttl);
    return { op: 'merge', key, success: true };
  }

  private async incr(command: IncrCommand): Promise<Result> {
    const { key, op } = command;
    const amount = command.amount ?? 1;
    const reply = await this.client.lixIncr(this.dataPrefix + key, String(op === 'incr' ? amount : -amount), ttlArg(command.ttl));
    return { op, key, value: Number(reply) };
  }

  private async delete(key: string): Promise<Result> {
    const reply = await this.client.lixDelete(this.dataPrefix + key);
    if (reply.length > 1) this.inBackground(this.untag(key, tagsOf(reply, 1)));
    return { op: 'delete', key, success: true, deleted: reply[0] === 1 };
  }

  private async expire(key: string, ttl: number): Promise<Result> {
    const arg = ttlArg(ttl);
    const fields = await this.client.lixExpire(this.dataPrefix + key, arg);
    if (fields === null) return { op: 'expire', key, success: false };
    if (fields.length > 0) await this.stretchTags(tagsOf(fields), arg);
    return { op: 'expire', key, success: true };
  }

  /** Add `key` to a tag's set, then prune the dead members the script sampled (in the background). */
  private async tagAdd(tag: string, key: string, ttl: string): Promise<void> {
    const sample = await this.client.lixTagAdd(this.tagPrefix + tag, key, ttl);
    const others = sample.filter((member) => member !== key);
    if (others.length > 0) this.inBackground(this.pruneDead(tag, others));
  }

  /** A key's TTL changed: its tags' sets must live at least as long. */
  private async stretchTags(tags: readonly string[], ttl: string): Promise<void> {
    await Promise.all(tags.map((tag) => this.client.lixTagStretch(this.tagPrefix + tag, ttl)));
  }

  /** Remove `key` from tags it no longer carries. */
  private untag(key: string, tags: readonly string[]): Promise<void> {
    return Promise.all(tags.map((tag) => this.removeMembers(tag, [key]))).then(() => undefined);
  }

  /** Check members of a tag and remove those that no longer carry it. */
  private async pruneDead(tag: string, members: readonly string[]): Promise<void> {
    const field = `t:${tag}`;
    const alive = await Promise.all(members.map((member) => this.client.lixTagged(this.dataPrefix + member, field, '0')));
    const dead = members.filter((_, i) => alive[i] === null);
    if (dead.length > 0) await this.removeMembers(tag, dead);
  }

  /**
   * SREM, then check each member again and put back any that carries the tag
   * now: a concurrent set may have tagged it between our check and the SREM
   * (its own SADD landing before our SREM), and this keeps that membership.
   */
  private async removeMembers(tag: string, members: readonly string[]): Promise<void> {
    const tagKey = this.tagPrefix + tag;
    const field = `t:${tag}`;
    const removals: Promise<number>[] = [];
    for (let i = 0; i < members.length; i += SREM_CHUNK) removals.push(this.client.srem(tagKey, ...members.slice(i, i + SREM_CHUNK)));
    await Promise.all(removals);
    const again = await Promise.all(members.map((member) => this.client.lixTagged(this.dataPrefix + member, field, '0')));
    const back: Promise<string[]>[] = [];
    for (let i = 0; i < members.length; i++) {
      const alive = again[i];
      if (alive) back.push(this.client.lixTagAdd(tagKey, members[i]!, pttlArg(alive[0])));
    }
    await Promise.all(back);
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

  private async scanPrefix(command: ScanCommand): Promise<ScanResult> {
    const limit = command.limit ?? DEFAULT_SCAN_LIMIT;
    const keysOnly = command.keysOnly === true;
    const nodes = this.masters();
    const start = command.cursor ? decodeRedisCursor(command.cursor, 'prefix') : undefined;
    let nodeIndex = 0;
    if (start !== undefined) {
      nodeIndex = nodes.findIndex((node) => nodeId(node) === start.node);
      if (nodeIndex < 0) throw lixError('invalid_scan', `The cursor names Redis node ${start.node}, which is no longer a master of the cluster. Start the scan again without a cursor.`);
    }
    let redisCursor = start?.redisCursor ?? '0';
    let after = start?.after ?? '';
    const pattern = `${escapeGlob(this.dataPrefix + (command.prefix ?? ''))}*`;
    const skip = this.dataPrefix.length;
    const keys: string[] = [];
    const items: ScanItem[] = [];
    for (;;) {
      const node = nodes[nodeIndex]!;
      const [next, found] = await node.scan(redisCursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      // SCAN may repeat a key; sorting the batch lets a cursor resume inside it after the last key returned.
      let batch = [...new Set(found)].map((raw) => raw.slice(skip)).sort();
      if (after !== '') batch = batch.filter((key) => key > after);
      let i = 0;
      while (i < batch.length) {
        const taken = keys.length + items.length;
        if (taken === limit) {
          const cursor = encodeRedisCursor({ kind: 'prefix', node: nodeId(node), redisCursor, after: i > 0 ? batch[i - 1]! : after });
          return page(keysOnly, keys, items, cursor);
        }
        const chunk = batch.slice(i, i + limit - taken);
        i += chunk.length;
        if (keysOnly) keys.push(...chunk);
        else {
          const replies = await Promise.all(chunk.map((key) => this.client.lixGet(this.dataPrefix + key, '')));
          chunk.forEach((key, j) => {
            const reply = replies[j];
            if (reply) items.push({ key, value: JSON.parse(reply[0]) as Json, ttl: ttlOf(reply[1]) });
          });
        }
      }
      after = '';
      if (next !== '0') redisCursor = next;
      else if (++nodeIndex < nodes.length) redisCursor = '0';
      else return page(keysOnly, keys, items, null);
    }
  }

  private async scanTag(command: ScanCommand, tag: string): Promise<ScanResult> {
    const limit = command.limit ?? DEFAULT_SCAN_LIMIT;
    const keysOnly = command.keysOnly === true;
    const prefix = command.prefix ?? '';
    const after = command.cursor ? decodeRedisCursor(command.cursor, 'tag').after : '';
    const members = (await this.client.smembers(this.tagPrefix + tag)).filter((key) => key.startsWith(prefix) && key > after).sort();
    const field = `t:${tag}`;
    const keys: string[] = [];
    const items: ScanItem[] = [];
    const dead: string[] = [];
    let i = 0;
    let more = false;
    // Check members a page at a time (plus one, to know whether another page follows).
    while (i < members.length && !more) {
      const chunk = members.slice(i, i + limit + 1 - keys.length - items.length);
      i += chunk.length;
      const replies = await Promise.all(chunk.map((key) => this.client.lixTagged(this.dataPrefix + key, field, keysOnly ? '0' : '1')));
      for (let j = 0; j < chunk.length; j++) {
        const reply = replies[j];
        const key = chunk[j]!;
        if (!reply) dead.push(key);
        else if (keys.length + items.length === limit) {
          more = true;
          break;
        } else if (keysOnly) keys.push(key);
        else items.push({ key, value: JSON.parse(reply[1]!) as Json, ttl: ttlOf(reply[0]) });
      }
    }
    if (dead.length > 0) await this.removeMembers(tag, dead);
    const last = keysOnly ? keys.at(-1) : items.at(-1)?.key;
    return page(keysOnly, keys, items, more ? encodeRedisCursor({ kind: 'tag', after: last! }) : null);
  }

  private async invalidate(tag: string): Promise<Result> {
    const members = await this.client.smembers(this.tagPrefix + tag);
    const field = `t:${tag}`;
    const replies = await Promise.all(members.map((key) => this.client.lixDeleteIfTagged(this.dataPrefix + key, field)));
    let deleted = 0;
    for (let i = 0; i < members.length; i++) {
      const fields = replies[i];
      if (!fields) continue;
      deleted++;
      const others = tagsOf(fields).filter((other) => other !== tag);
      if (others.length > 0) this.inBackground(this.untag(members[i]!, others));
    }
    if (members.length > 0) await this.removeMembers(tag, members);
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
