import { Cluster, Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { ChangeFeed } from '../commands/change-feed';

/** Where Redis sends tracking invalidations to a RESP2 client (see CLIENT TRACKING). */
const CHANNEL = '__redis__:invalidate';
/**
 * How often the feed re-reads a Cluster's slot map (ioredis does not refresh it on its own
 * unless a command is redirected) and pings its connections, in ms: a failover or a new
 * master is noticed within this, and so is a connection that went silent.
 */
const CHECK_INTERVAL_MS = 5000;
/** Wait before setting tracking up again after Redis refused it (a refusal seldom heals at once). */
const SETUP_RETRY_MS = 1000;
/** Slots of a Redis Cluster. */
const SLOTS = 16384;

/** Options of `new RedisChangeFeed(options)`; RedisEngine builds them from its own. */
export interface RedisChangeFeedOptions {
  /** The engine's client: the masters to track are its server (standalone) or its Cluster's slot owners. */
  client: Redis | Cluster;
  /** Prefix of every key reported; Redis filters on it and it is cut off the keys reported. */
  dataPrefix: string;
  /** Where changes and live transitions go. */
  changes: ChangeFeed;
  /** Credentials, TLS and timeouts of the engine's connections; the feed's connections use the same. */
  connection: RedisOptions;
}

/** One master's feed connection. */
interface Link {
  readonly address: string;
  readonly connection: Redis;
  /** CLIENT TRACKING is on and the connection is subscribed to the invalidation channel. */
  tracking: boolean;
  /** Counts the connection's 'ready' events, so a setup that outlived its connection is ignored. */
  session: number;
  closed: boolean;
  retry: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Reports every change under a RedisEngine's keys to its ChangeFeed, using Redis's
 * server-assisted client-side caching in broadcasting mode: one connection per master runs
 * `CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX <dataPrefix>` and subscribes to
 * `__redis__:invalidate`, so Redis itself sends the name of every key under the prefix that is
 * written, deleted, expired, evicted or has its TTL changed, and null when a db is flushed.
 *
 * Chosen over keyspace notifications because it needs no `CONFIG SET notify-keyspace-events`
 * (which managed Redis services often forbid), Redis filters by prefix before sending, and it
 * batches keys per event-loop cycle of Redis.
 *
 * The feed is live only while tracking is confirmed on every master that owns a slot; it goes
 * down the moment a connection closes or errs, or the master set changes, and up again once
 * tracking is set up anew (ioredis reconnects; it does not redo CLIENT TRACKING by itself).
 */
export class RedisChangeFeed {
  /** Feed connections by master address (`host:port`). */
  private readonly links = new Map<string, Link>();
  private readonly client: Redis | Cluster;
  private readonly dataPrefix: string;
  private readonly changes: ChangeFeed;
  private readonly connection: RedisOptions;
  /** Bytes of the prefix, cut off each reported key. */
  private readonly skip: number;
  private running = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Whether every slot has a master (always true standalone); false keeps the feed down. */
  private covered = false;
  private warned = false;

  constructor(options: RedisChangeFeedOptions) {
    this.client = options.client;
    this.dataPrefix = options.dataPrefix;
    this.changes = options.changes;
    this.connection = options.connection;
    this.skip = Buffer.byteLength(this.dataPrefix);
  }

  /** Open a connection per master and set tracking up; the ChangeFeed goes live once all confirm. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.client instanceof Cluster) {
      for (const event of TOPOLOGY_EVENTS) this.client.on(event, this.sync);
    }
    this.timer = setInterval(this.check, CHECK_INTERVAL_MS);
    this.timer.unref();
    this.sync();
  }

  /** Close every feed connection; the ChangeFeed is down until the next `start`. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    if (this.client instanceof Cluster) {
      for (const event of TOPOLOGY_EVENTS) this.client.off(event, this.sync);
    }
    for (const link of this.links.values()) this.drop(link);
    this.links.clear();
    this.changes.setLive(false);
  }

  /** Track exactly the current masters: open links to new ones, close those to masters that left. */
  private readonly sync = (): void => {
    if (!this.running) return;
    const masters = this.masters();
    let same = masters.size === this.links.size;
    if (same) for (const address of masters) if (!this.links.has(address)) same = false;
    if (!same) {
      // A new master may hold keys no link watched: nothing is reported as complete until it is tracked too.
      this.changes.setLive(false);
      for (const [address, link] of this.links) {
        if (!masters.has(address)) {
          this.drop(link);
          this.links.delete(address);
        }
      }
      for (const address of masters) if (!this.links.has(address)) this.links.set(address, this.open(address));
    }
    this.updateLive();
  };

  /**
   * The master of every slot (standalone: the one server). A slot without a master leaves the
   * feed down: its keys have nobody to track them once a master takes it over.
   */
  private masters(): Set<string> {
    const client = this.client;
    if (client instanceof Redis) {
      this.covered = true;
      return new Set([`${client.options.host ?? '127.0.0.1'}:${client.options.port ?? 6379}`]);
    }
    const masters = new Set<string>();
    const { slots } = client;
    this.covered = true;
    for (let slot = 0; slot < SLOTS; slot++) {
      const owner = slots[slot]?.[0];
      if (owner === undefined) this.covered = false;
      else masters.add(owner);
    }
    return masters;
  }

  /** The slow timer: re-read the slot map (a Cluster) and ping every tracking connection. */
  private readonly check = (): void => {
    if (this.client instanceof Cluster && this.client.status === 'ready') {
      // Its 'refresh' event runs `sync`.
      this.client.refreshSlotsCache();
    }
    this.sync();
    for (const link of this.links.values()) {
      if (!link.tracking) continue;
      // A connection that stopped answering may have missed invalidations: reconnect it (commandTimeout bounds the ping).
      link.connection.ping().catch(() => {
        if (!link.closed && link.connection.status === 'ready') this.restart(link);
      });
    }
  };

  private open(address: string): Link {
    const colon = address.lastIndexOf(':');
    const connection = new Redis({
      ...this.connection,
      host: address.slice(0, colon),
      port: Number(address.slice(colon + 1)),
      db: 0, // tracking is not per db; the feed runs no other command
      // We subscribe ourselves after CLIENT TRACKING on every 'ready'.
      autoResubscribe: false,
      // A setup command must fail with its connection, never be replayed on the next one.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      connectionName: 'lix-change-feed',
      lazyConnect: false,
    });
    const link: Link = { address, connection, tracking: false, session: 0, closed: false, retry: undefined };
    connection.on('messageBuffer', this.onMessage);
    connection.on('ready', () => void this.setUp(link));
    connection.on('close', () => this.down(link));
    // Connection errors: the engine's own client reports them (health()); here they only take the feed down.
    connection.on('error', () => {
      // An error on a connection we consider ready may have lost invalidations: start it over.
      if (connection.status === 'ready' && link.tracking) this.restart(link);
      else this.down(link);
    });
    return link;
  }

  /** Each invalidation: the changed keys, or null (FLUSHDB/FLUSHALL: everything). Hot path: one slice per key. */
  private readonly onMessage = (_channel: Buffer, keys: unknown): void => {
    try {
      if (Array.isArray(keys) && keys.length > 0) {
        for (let i = 0; i < keys.length; i++) this.changes.changed((keys[i] as Buffer).toString('utf8', this.skip));
      } else {
        this.changes.changedAll();
      }
    } catch {
      // Only a reply we did not expect lands here (listeners' errors are caught by the ChangeFeed): never let it into ioredis's parser.
    }
  };

  /** On every 'ready': CLIENT ID, tracking redirected to that id, then SUBSCRIBE; live once every master is done. */
  private async setUp(link: Link): Promise<void> {
    const session = ++link.session;
    const { connection } = link;
    try {
      const id = await connection.client('ID');
      await connection.client('TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.dataPrefix);
      await connection.subscribe(CHANNEL);
    } catch (error) {
      if (link.closed || session !== link.session || connection.status !== 'ready') return; // the connection went away: 'ready' comes again
      // A reply is Redis saying no (too old, ACL); anything else (a timeout) is only retried.
      if ((error as Error | undefined)?.name === 'ReplyError') this.refused(link, (error as Error).message);
      this.retryLater(link);
      return;
    }
    if (link.closed || session !== link.session || connection.status !== 'ready') return;
    link.tracking = true;
    this.updateLive();
  }

  /** Redis refused a setup command: say why, once per feed (it is retried every second). */
  private refused(link: Link, reason: string): void {
    if (this.warned) return;
    this.warned = true;
    const message =
      `Redis at ${link.address} refused change tracking (${reason}), so Engine.watch stays down (no near cache, no /cache/events) until it accepts. ` +
      `Watching needs Redis 6 or later (or Valkey) and, with ACLs, permission to run CLIENT ID, CLIENT TRACKING and SUBSCRIBE ${CHANNEL}.`;
    process.emitWarning(message, { type: 'LixCacheWarning', code: 'LIX_REDIS_TRACKING_REFUSED' });
  }

  /** Set tracking up again after a while, on a fresh connection (a refusal seldom heals at once). */
  private retryLater(link: Link): void {
    clearTimeout(link.retry);
    link.retry = setTimeout(() => {
      if (!link.closed) link.connection.disconnect(true);
    }, SETUP_RETRY_MS);
    link.retry.unref();
  }

  /** A link lost (or may have lost) its tracking. */
  private down(link: Link): void {
    link.tracking = false;
    if (!link.closed) this.updateLive();
  }

  /** Go down and reconnect the link; its 'ready' sets tracking up again. */
  private restart(link: Link): void {
    this.down(link);
    link.connection.disconnect(true);
  }

  private drop(link: Link): void {
    link.closed = true;
    link.tracking = false;
    clearTimeout(link.retry);
    // Its 'error' listener stays: an EventEmitter without one throws.
    link.connection.disconnect();
  }

  private updateLive(): void {
    let up = this.running && this.covered && this.links.size > 0;
    if (up) for (const link of this.links.values()) if (!link.tracking) up = false;
    this.changes.setLive(up);
  }
}

/** Cluster events after which the master set may have changed. */
const TOPOLOGY_EVENTS = ['ready', 'refresh', '+node', '-node'] as const;
