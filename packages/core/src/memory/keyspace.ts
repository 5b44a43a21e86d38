import type { ChangeFeed } from '../commands/change-feed';
import { ExpiryWheel } from './expiry-wheel';
import type { MutationJournal } from './mutation-journal';
import { SortedKeySet } from './sorted-key-set';
import { stringBytes } from './heap-bytes';
import { TagIndex, sameTags } from './tag-index';

/*
 * What the structures really cost on V8's heap (Node 20, 64-bit, no pointer compression), so that
 * `memory` tracks the live heap. Measured with throwaway scripts under `node --expose-gc`: a real server
 * (serve() in-process, warmed up first) took 5,000-50,000 keys of one shape through POST /cache/batch, then
 * `gc()` and process.memoryUsage().heapUsed before and after, divided by the keys. Each workload (tiny keys,
 * 500-byte keys, 100-byte and 1 MB values, shared TTLs, a TTL slot per key, one shared tag, one tag per key,
 * 32 shared tags, 32 unique tags per key, 32 unique 200-byte tags) then measured 0.7x-1.1x of the estimate
 * below; the constants round the measurements up. test/memory-estimate.test.ts keeps checking it (<= 1.25x).
 */
/** A key's fixed cost: its Map slot, the Entry object, its sorted-index slot and the key string's header. Measured 185-200. */
const ENTRY_BYTES = 200;
/** A stored JSON text beyond its characters: a cons string around the parsed text and its own header. Measured 50-70. */
const VALUE_TEXT_BYTES = 64;
/** A number value that is not a small integer lives in a HeapNumber. */
const NUMBER_BYTES = 16;
/** A key with a TTL: its slot in an expiry bucket (a Set) and the expiry time's HeapNumber. Measured 56. */
const EXPIRY_KEY_BYTES = 64;
/** One expiry bucket (a Set and its Map slot), paid per distinct TTL slot in use. Measured 165. */
const EXPIRY_BUCKET_BYTES = 200;
/** A key's tag list (a JS array), plus 8 per tag. */
const TAG_LIST_BYTES = 48;
/** One (key, tag) pair: the array slot and the key's slot in the tag's sorted set, plus the tag string. Measured 24-42 with the string. */
const TAG_PAIR_BYTES = 24;

/** `slot` of an entry that never expires. */
const NO_SLOT = -1;

/**
 * One stored key, also a link of the recency list. A class, so every entry
 * has one shape (monomorphic property access on the hot path).
 */
export class Entry {
  /** Neighbours in the recency list (towards least / most recently used); the list's sentinel at either end. */
  prev: Entry = this;
  next: Entry = this;

  constructor(
    readonly key: string,
    /** JSON text, or a number kept as such so incr/decr skip parsing. */
    public value: string | number,
    /** Epoch ms; 0: never. */
    public expiresAt: number,
    /** Expiry wheel slot, or NO_SLOT. */
    public slot: number,
    public tags: readonly string[] | undefined,
    public bytes: number,
  ) {}
}

export interface KeyspaceOptions {
  limit: number;
  maxMemory: number;
  resolutionMs: number;
  now: number;
}

/** Estimated heap bytes of one entry with its value and tags (tag-index and expiry-wheel structures are counted by those). */
function entryBytes(key: string, value: string | number, tags: readonly string[] | undefined): number {
  let bytes = ENTRY_BYTES + stringBytes(key) + (typeof value === 'number' ? NUMBER_BYTES : VALUE_TEXT_BYTES + stringBytes(value));
  if (tags !== undefined) {
    bytes += TAG_LIST_BYTES + 8 * tags.length;
    for (const tag of tags) bytes += TAG_PAIR_BYTES + stringBytes(tag);
  }
  return bytes;
}

/**
 * The data structures behind MemoryEngine: entries by key in a Map, a
 * recency list linked through the entries, a sorted key index for prefix
 * scans, a tag index, an expiry wheel, and the memory estimate. Every change
 * goes to `journal` when one is attached; expiry is not a change (records
 * carry absolute times).
 */
export class Keyspace {
  private readonly entries = new Map<string, Entry>();
  /**
   * Recency order, hand-written as a circular list through the entries with this sentinel as both ends
   * (next: least recently used, prev: most recently used): a use is a few pointer writes. Re-inserting into
   * the Map instead leaves a tombstone per use and makes V8 rehash the whole table every few thousand uses.
   */
  private readonly lru = new Entry('', 0, 0, NO_SLOT, undefined, 0);
  private readonly sorted = new SortedKeySet();
  readonly tags = new TagIndex();
  private readonly wheel: ExpiryWheel;
  private readonly limit: number;
  private readonly maxMemory: number;
  /** Estimated bytes of the entries (keys, values, tag lists); `memory` adds the indexes' own structures. */
  private entryMemory = 0;
  evictions = 0;
  expirations = 0;
  journal: MutationJournal | undefined;
  /** Told of every change, expiry and eviction included (set only while the engine is watched). */
  changes: ChangeFeed | undefined;

  constructor(options: KeyspaceOptions) {
    this.limit = options.limit;
    this.maxMemory = options.maxMemory;
    this.wheel = new ExpiryWheel(options.resolutionMs, options.now);
  }

  /** Keys held, including expired ones the sweep has not reached yet (at most one sweep interval's worth). */
  get size(): number {
    return this.entries.size;
  }

  /** Estimated heap bytes held: entries, plus the tag index and expiry wheel structures. */
  get memory(): number {
    return this.entryMemory + this.tags.bytes + this.wheel.keyCount * EXPIRY_KEY_BYTES + this.wheel.bucketCount * EXPIRY_BUCKET_BYTES;
  }

  /** Index sizes, for tests and diagnostics. */
  get indexSizes(): { keys: number; sorted: number; tags: number; expiryBuckets: number } {
    return { keys: this.entries.size, sorted: this.sorted.size, tags: this.tags.size, expiryBuckets: this.wheel.bucketCount };
  }

  /** The live entry for `key`, marked most recently used; an expired one is reclaimed on the spot. */
  get(key: string, now: number): Entry | undefined {
    const entry = this.peek(key, now);
    if (entry !== undefined) this.touch(entry);
    return entry;
  }

  /** The live entry for `key`, without changing its recency. */
  peek(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
      this.expire(key, entry);
      return undefined;
    }
    return entry;
  }

  /** The live entry for `key`, changing nothing (not even reclaiming an expired one): safe while walking an index. */
  live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && (entry.expiresAt === 0 || entry.expiresAt > now) ? entry : undefined;
  }

  /** Store `value` under `key` as its whole state (replacing expiry and tags), most recently used; then evict past the limits. */
  put(key: string, value: string | number, expiresAt: number, tags: readonly string[] | undefined): void {
    const bytes = entryBytes(key, value, tags);
    const entry = this.entries.get(key);
    if (entry === undefined) {
      const slot = expiresAt === 0 ? NO_SLOT : this.wheel.slotOf(expiresAt);
      if (slot !== NO_SLOT) this.wheel.add(key, slot);
      const created = new Entry(key, value, expiresAt, slot, tags, bytes);
      this.entries.set(key, created);
      this.link(created);
      this.sorted.add(key);
      if (tags !== undefined) this.tags.add(key, tags);
      this.entryMemory += bytes;
    } else {
      if (entry.expiresAt !== expiresAt) this.refile(key, entry, expiresAt);
      if (!sameTags(entry.tags, tags)) {
        if (entry.tags !== undefined) this.tags.remove(key, entry.tags);
        if (tags !== undefined) this.tags.add(key, tags);
        entry.tags = tags;
      }
      entry.value = value;
      this.entryMemory += bytes - entry.bytes;
      entry.bytes = bytes;
      this.touch(entry);
    }
    this.journal?.put(key, value, expiresAt, tags);
    this.changes?.changed(key);
    if (this.entries.size > this.limit || (this.maxMemory > 0 && this.memory > this.maxMemory)) this.evict(key);
  }

  /** Give a live entry a new expiry time (0: never). */
  setExpiry(key: string, entry: Entry, expiresAt: number): void {
    if (entry.expiresAt !== expiresAt) this.refile(key, entry, expiresAt);
    this.journal?.expire(key, expiresAt);
    this.changes?.changed(key);
  }

  delete(key: string, entry: Entry): void {
    this.remove(key, entry);
    this.journal?.delete(key);
  }

  /** Remove every key; returns how many were live. */
  clear(now: number): number {
    let live = 0;
    for (const entry of this.entries.values()) if (entry.expiresAt === 0 || entry.expiresAt > now) live++;
    this.entries.clear();
    this.lru.next = this.lru.prev = this.lru;
    this.sorted.clear();
    this.tags.clear();
    this.wheel.clear();
    this.entryMemory = 0;
    this.journal?.clear();
    this.changes?.changedAll();
    return live;
  }

  /** Reclaim keys whose expiry slot has passed, at most `budget` of them (the next call goes on from there). */
  sweep(now: number, budget: number): number {
    return this.wheel.sweep(now, budget, (key, slot) => {
      const entry = this.entries.get(key);
      // Deleted or re-filed while its bucket waited between two calls.
      if (entry === undefined || entry.slot !== slot) return;
      if (entry.expiresAt <= now) this.expire(key, entry);
      else this.refile(key, entry, entry.expiresAt);
    });
  }

  /** Sorted keys from `start` upward: all keys, or those carrying `tag`. */
  keysFrom(start: string, tag: string | undefined): IterableIterator<string> | undefined {
    if (tag === undefined) return this.sorted.from(start);
    return this.tags.keys(tag)?.from(start);
  }

  /** Keys carrying `tag`, copied (safe to delete while walking). */
  keysWithTag(tag: string): string[] {
    return this.tags.keys(tag)?.toArray() ?? [];
  }

  /** Live entries in key order from `start` (inclusive), for snapshots taken a chunk at a time. */
  *entriesFrom(start: string, now: number): Generator<[string, Entry]> {
    for (const key of this.sorted.from(start)) {
      const entry = this.entries.get(key)!;
      if (entry.expiresAt === 0 || entry.expiresAt > now) yield [key, entry];
    }
  }

  /** Mark `entry` most recently used. */
  private touch(entry: Entry): void {
    const lru = this.lru;
    if (entry.next === lru) return;
    entry.prev.next = entry.next;
    entry.next.prev = entry.prev;
    entry.prev = lru.prev;
    entry.next = lru;
    lru.prev.next = entry;
    lru.prev = entry;
  }

  /** Add a new entry as the most recently used. */
  private link(entry: Entry): void {
    const lru = this.lru;
    entry.prev = lru.prev;
    entry.next = lru;
    lru.prev.next = entry;
    lru.prev = entry;
  }

  private refile(key: string, entry: Entry, expiresAt: number): void {
    entry.expiresAt = expiresAt;
    const slot = expiresAt === 0 ? NO_SLOT : this.wheel.slotOf(expiresAt);
    // Within one slot (a key re-set or touched again within `resolutionMs`) the bucket stays as it is.
    if (slot === entry.slot) return;
    if (entry.slot !== NO_SLOT) this.wheel.remove(key, entry.slot);
    if (slot !== NO_SLOT) this.wheel.add(key, slot);
    entry.slot = slot;
  }

  private expire(key: string, entry: Entry): void {
    this.remove(key, entry);
    this.expirations++;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    entry.prev.next = entry.next;
    entry.next.prev = entry.prev;
    // A removed entry still held by a caller must not keep its old neighbours reachable.
    entry.prev = entry.next = entry;
    this.sorted.delete(key);
    if (entry.tags !== undefined) this.tags.remove(key, entry.tags);
    if (entry.slot !== NO_SLOT) this.wheel.remove(key, entry.slot);
    this.entryMemory -= entry.bytes;
    this.changes?.changed(key);
  }

  /** Drop least recently used keys until within both limits; never `keep`, the key just written. */
  private evict(keep: string): void {
    const now = Date.now();
    const lru = this.lru;
    while (this.entries.size > this.limit || (this.maxMemory > 0 && this.memory > this.maxMemory)) {
      const entry = lru.next;
      const key = entry.key;
      if (entry === lru || key === keep) return;
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
        this.expire(key, entry);
        continue;
      }
      this.remove(key, entry);
      this.evictions++;
      this.journal?.delete(key);
    }
  }
}
