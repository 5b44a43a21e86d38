import type { LixCache } from './lix-cache';
import type {
  Entry,
  GetOptions,
  MergeOptions,
  RememberAllOptions,
  RememberAllResult,
  RememberOptions,
  ScanItem,
  ScanKeysPage,
  ScanOptions,
  ScanPage,
  SetOptions,
} from './options';
import { validate, type Schema } from './schema';
import { LixValidationError } from './errors';

type CollectionScanOptions = Omit<ScanOptions, 'prefix'>;

/** An item for `batchSet`. */
export interface BatchSetItem<T> {
  id: string;
  value: T;
  ttl?: number;
  tags?: string[];
}

/**
 * Keys under one prefix, typed: `users.get('1')` reads `user:1`. With a schema,
 * every value is validated on write (and stored as the schema's output) and on
 * read; invalid data throws LixValidationError with the schema's issues.
 * Ids in and out are without the prefix.
 */
export class Collection<T> {
  constructor(
    private readonly cache: LixCache,
    /** Prepended to every id. */
    readonly prefix: string,
    private readonly schema?: Schema<T>,
  ) {}

  /** The full cache key of an id. */
  key(id: string): string {
    return this.prefix + id;
  }

  private check(value: unknown, id: string, direction: 'write' | 'read'): T | Promise<T> {
    return this.schema ? validate(this.schema, value, this.key(id), direction) : (value as T);
  }

  /** The item, or null when missing. `touch` resets its TTL as it reads. */
  async get(id: string, options?: GetOptions): Promise<T | null> {
    const value = await this.cache.get(this.key(id), options);
    return value === null ? null : this.check(value, id, 'read');
  }

  /** The item with its remaining TTL, or null when missing. */
  async getEntry(id: string, options?: GetOptions): Promise<Entry<T> | null> {
    const entry = await this.cache.getEntry(this.key(id), options);
    return entry === null ? null : { value: await this.check(entry.value, id, 'read'), ttl: entry.ttl };
  }

  /** Validate and store. Resolves true when written (see `LixCache.set`). */
  async set(id: string, value: T, options?: SetOptions): Promise<boolean> {
    return this.cache.set(this.key(id), await this.check(value, id, 'write'), options);
  }

  /** Shallow-merge fields into a stored item, only if it exists. The result is validated on the next read. */
  merge(id: string, patch: Partial<T>, options?: MergeOptions): Promise<boolean> {
    return this.cache.merge(this.key(id), patch as object, options);
  }

  delete(id: string): Promise<boolean> {
    return this.cache.delete(this.key(id));
  }

  exists(id: string): Promise<boolean> {
    return this.cache.exists(this.key(id));
  }

  expire(id: string, ttl: number): Promise<boolean> {
    return this.cache.expire(this.key(id), ttl);
  }

  /** Items of this collection (ids without the prefix), validated. Same paging rules as `LixCache.scan`. */
  scan(options: CollectionScanOptions & { keysOnly: true }): Promise<ScanKeysPage>;
  scan(options?: CollectionScanOptions & { keysOnly?: false }): Promise<ScanPage<T>>;
  async scan(options: CollectionScanOptions = {}): Promise<ScanPage<T> | ScanKeysPage> {
    const page = await this.cache.scan({ ...options, prefix: this.prefix });
    const cut = this.prefix.length;
    if ('keys' in page) return { ...page, keys: page.keys.map((key) => key.slice(cut)) };
    const items: ScanItem<T>[] = await Promise.all(
      page.items.map(async (item) => {
        const id = item.key.slice(cut);
        return { key: id, value: await this.check(item.value, id, 'read'), ttl: item.ttl };
      }),
    );
    return { items, count: items.length, cursor: page.cursor };
  }

  /** Delete every item of this collection (and its `rememberAll` list). Resolves how many items were deleted. */
  async clear(): Promise<number> {
    const keys: string[] = [];
    for await (const key of this.cache.scanAll({ prefix: this.prefix, keysOnly: true })) keys.push(key);
    const [deleted] = await Promise.all([
      Promise.all(keys.map((key) => this.cache.delete(key))),
      this.cache.delete(this.listKey()),
    ]);
    return deleted.filter(Boolean).length;
  }

  /** Many items in one request, in order; null for each missing one. */
  batchGet(ids: readonly string[]): Promise<(T | null)[]> {
    return Promise.all(ids.map((id) => this.get(id)));
  }

  /** Validate every item first (nothing is written if one is invalid), then store them all in one request. */
  async batchSet(items: readonly BatchSetItem<T>[]): Promise<void> {
    const values = await Promise.all(items.map((item) => this.check(item.value, item.id, 'write')));
    await Promise.all(items.map((item, i) => this.cache.set(this.key(item.id), values[i], { ttl: item.ttl, tags: item.tags })));
  }

  /** Delete many items in one request. Resolves how many existed. */
  async batchDelete(ids: readonly string[]): Promise<number> {
    const deleted = await Promise.all(ids.map((id) => this.delete(id)));
    return deleted.filter(Boolean).length;
  }

  /** The item; when missing, compute it with `fn`, validate, store and return it (one computation per id at a time). */
  remember(id: string, fn: () => T | Promise<T>, options?: RememberOptions): Promise<T> {
    return this.cache.rememberWith(this.key(id), fn, options, (value, direction) => this.check(value, id, direction) as Promise<T>);
  }

  /**
   * Cache a list item by item (see `RememberAllOptions`): each item at `prefix + getKey(item)`;
   * with `listTTL`, the ids of the list are kept too and `fn` runs only when the list has
   * expired or one of its items is gone.
   */
  rememberAll(fn: () => T[] | Promise<T[]>, options: RememberAllOptions<T>): Promise<RememberAllResult<T>> {
    if (typeof options?.getKey !== 'function') {
      return Promise.reject(
        new LixValidationError('invalid_value', 'rememberAll needs { getKey: (item) => id }, the id each item is stored under.', [{ message: 'getKey is not a function' }]),
      );
    }
    const { getKey, ttl, listTTL } = options;
    const fetchAndStore = async (): Promise<T[]> => {
      const fetched = await fn();
      if (!Array.isArray(fetched)) {
        throw new LixValidationError('invalid_value', `rememberAll("${this.prefix}"): fn must return an array of items.`, [{ message: 'not an array' }]);
      }
      const ids = fetched.map((item) => getKey(item));
      const items = await Promise.all(fetched.map((item, i) => this.check(item, ids[i]!, 'write')));
      const writes = items.map((item, i) => this.cache.set(this.key(ids[i]!), item, { ttl }));
      if (listTTL !== undefined) writes.push(this.cache.set(this.listKey(), ids, { ttl: listTTL }));
      await Promise.all(writes);
      return items;
    };
    const load =
      listTTL === undefined
        ? fetchAndStore
        : async (): Promise<T[]> => {
            const ids = await this.cache.get<string[]>(this.listKey());
            if (Array.isArray(ids)) {
              const items = await this.batchGet(ids);
              if (items.every((item) => item !== null)) return items as T[];
            }
            return fetchAndStore();
          };
    return this.cacheShare(load).then((items) => {
      const byId = new Map<string, T>();
      for (const item of items) byId.set(getKey(item), item);
      return { items, getBy: (id: string) => byId.get(id) };
    });
  }

  /** Where `rememberAll` keeps the ids of the list: outside the prefix, so scans of the collection do not see it. */
  private listKey(): string {
    return `lix:list:${this.prefix}`;
  }

  private cacheShare(load: () => Promise<T[]>): Promise<T[]> {
    return this.cache.rememberShare(this.listKey(), load);
  }
}
