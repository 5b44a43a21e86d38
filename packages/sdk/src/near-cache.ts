import type { ChangeListener, Command, GetResult, Result } from 'lix-cache-core';
import { LRUCache } from 'lru-cache';

/** Options of the near cache (`new LixCache({ nearCache: { … } })`). Every one is optional. */
export interface NearCacheOptions {
  /** Most entries held in this process; past it the least recently used go first. Default 10000. */
  maxEntries?: number;
  /** Most bytes held (keys and values as JSON text, 2 bytes a character, plus 64 per entry). Default 16 MiB (16777216). */
  maxBytes?: number;
  /**
   * Cache only keys under these prefixes, and have the server push every change under them
   * (broadcast). Default: every key this client reads, each tracked by the server on its own.
   */
  prefixes?: string[];
  /** Longest an entry lives here, in seconds, even when its server TTL is longer or absent. Default: its server TTL. */
  ttl?: number;
}

/** What `cache.nearCacheStats()` reports. Counters run from the client's creation. */
export interface NearCacheStats {
  /** Reads answered in this process. */
  hits: number;
  /** Reads that went to the cache while the near cache was on (not counting reads it had to bypass). */
  misses: number;
  /** Keys dropped because the server said they changed. */
  invalidations: number;
  /** Times everything was dropped: the channel went down, a `clear` or `invalidate(tag)`. */
  flushes: number;
  /** Entries held now. */
  entries: number;
  /** Bytes held now (as `maxBytes` counts them). */
  bytes: number;
  /** Whether the push channel is up: while false, every read goes to the cache. */
  live: boolean;
}

/** One value held: its JSON text (undefined: the key was absent), when it expires on the server, and when here. */
export interface Held {
  text: string | undefined;
  /** Epoch ms of the server's expiry; Infinity: none. */
  expiresAt: number;
  /** Epoch ms after which this copy is not used: expiresAt, or sooner with the `ttl` option. */
  staleAt: number;
}

/** The reads of one key in flight; `stale` once a change of that key arrived while they were. */
interface Inflight {
  reads: number;
  stale: boolean;
}

/** A read that may fill the cache when it returns. */
export interface ReadTicket {
  key: string;
  inflight: Inflight;
  epoch: number;
  sentAt: number;
}

export const DEFAULT_NEAR_ENTRIES = 10_000;
export const DEFAULT_NEAR_BYTES = 16 * 1024 * 1024;
const ENTRY_OVERHEAD = 64;

/**
 * Values this client read, kept in-process while the server can tell it they
 * changed (the model of Redis's client-side caching). Correctness rules:
 * - nothing is cached or served while the push channel is down; going down flushes;
 * - a read is cached only if no change of its key (and no flush) arrived while it was
 *   in flight, so a read that raced a write never caches the older value;
 * - an entry never outlives the TTL the server reported, counted from when the read was sent;
 * - this client's own writes drop their key at once (read-your-writes before the push arrives).
 */
export class NearCache implements ChangeListener {
  private readonly store: LRUCache<string, Held>;
  private readonly inflight = new Map<string, Inflight>();
  private readonly prefixes: readonly string[] | undefined;
  private readonly ttlMs: number;
  /** Bumped by every flush: a read sent before one never fills. */
  private epoch = 0;
  private up = false;
  private hits = 0;
  private misses = 0;
  private invalidations = 0;
  private flushes = 0;

  constructor(options: Required<Pick<NearCacheOptions, 'maxEntries' | 'maxBytes'>> & Pick<NearCacheOptions, 'prefixes' | 'ttl'>) {
    this.store = new LRUCache<string, Held>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (held, key) => 2 * (key.length + (held.text?.length ?? 0)) + ENTRY_OVERHEAD,
    });
    this.prefixes = options.prefixes;
    this.ttlMs = options.ttl === undefined ? Infinity : options.ttl * 1000;
  }

  /** The copy of `key` when one is held and fresh; counts the hit. Undefined: read from the cache. */
  lookup(key: string): Held | undefined {
    if (!this.up) return undefined;
    const held = this.store.get(key);
    if (held === undefined) return undefined;
    if (held.staleAt <= Date.now()) {
      this.store.delete(key);
      return undefined;
    }
    this.hits++;
    return held;
  }

  /** Start a read of `key` from the cache; the ticket lets its result fill. Undefined when it may not be cached. */
  begin(key: string): ReadTicket | undefined {
    if (!this.up || !this.covers(key)) return undefined;
    this.misses++;
    let inflight = this.inflight.get(key);
    if (inflight === undefined) this.inflight.set(key, (inflight = { reads: 0, stale: false }));
    inflight.reads++;
    return { key, inflight, epoch: this.epoch, sentAt: Date.now() };
  }

  /** The read of `ticket` ended: cache its result if nothing changed meanwhile. `result` undefined: it failed. */
  end(ticket: ReadTicket, result: Result | undefined): void {
    const { key, inflight } = ticket;
    if (--inflight.reads === 0 && this.inflight.get(key) === inflight) this.inflight.delete(key);
    if (inflight.stale || ticket.epoch !== this.epoch || result === undefined || (result as GetResult).found === undefined) return;
    const { found, value, ttl } = result as GetResult;
    const expiresAt = ttl === null ? Infinity : ticket.sentAt + ttl * 1000;
    const staleAt = Math.min(expiresAt, ticket.sentAt + this.ttlMs);
    this.store.set(key, { text: found ? JSON.stringify(value) : undefined, expiresAt, staleAt });
  }

  /**
   * A command of this client that does not go through the near cache is about to be sent:
   * drop what it changes (read-your-writes before the push arrives), and what a get outside
   * the near cache (with `touch`, or in `batch`) may read newer than the copy held.
   */
  passing(command: Command): void {
    switch (command.op) {
      case 'exists':
      case 'scan':
        return;
      case 'clear':
      case 'invalidate':
        this.flush();
        return;
      default:
        this.drop(command.key);
    }
  }

  // ---- ChangeListener: what the push channel says -----------------------------

  changed(key: string): void {
    this.invalidations++;
    this.drop(key);
  }

  changedAll(): void {
    this.flush();
  }

  live(up: boolean): void {
    if (this.up === up) return;
    // Down: what is held may be stale by now. Nothing is cached while down, so it comes back up empty.
    if (!up) this.flush();
    this.up = up;
  }

  stats(): NearCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      invalidations: this.invalidations,
      flushes: this.flushes,
      entries: this.store.size,
      bytes: this.store.calculatedSize,
      live: this.up,
    };
  }

  private covers(key: string): boolean {
    const prefixes = this.prefixes;
    if (prefixes === undefined) return true;
    for (const prefix of prefixes) if (key.startsWith(prefix)) return true;
    return false;
  }

  private drop(key: string): void {
    this.store.delete(key);
    const inflight = this.inflight.get(key);
    if (inflight !== undefined) inflight.stale = true;
  }

  private flush(): void {
    this.flushes++;
    this.epoch++;
    this.store.clear();
    // Reads in flight keep their objects; the epoch already keeps them from filling.
    this.inflight.clear();
  }
}
