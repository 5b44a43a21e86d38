import type { LixCache } from './lix-cache';
import type { Entry, GetOptions, IncrOptions, MergeOptions, RememberOptions, SetOptions } from './options';
import { validate, type Schema } from './schema';

/**
 * One key, typed: `const flags = cache.value('config:flags', FlagsSchema)`. With a
 * schema, the value is validated on write (stored as the schema's output) and on read.
 */
export class Value<T> {
  constructor(
    private readonly cache: LixCache,
    /** The cache key. */
    readonly key: string,
    private readonly schema?: Schema<T>,
  ) {}

  private check(value: unknown, direction: 'write' | 'read'): T | Promise<T> {
    return this.schema ? validate(this.schema, value, this.key, direction) : (value as T);
  }

  /** The value, or null when missing. */
  async get(options?: GetOptions): Promise<T | null> {
    const value = await this.cache.get(this.key, options);
    return value === null ? null : this.check(value, 'read');
  }

  /** The value with its remaining TTL, or null when missing. */
  async getEntry(options?: GetOptions): Promise<Entry<T> | null> {
    const entry = await this.cache.getEntry(this.key, options);
    return entry === null ? null : { value: await this.check(entry.value, 'read'), ttl: entry.ttl };
  }

  /** Validate and store. Resolves true when written. */
  async set(value: T, options?: SetOptions): Promise<boolean> {
    return this.cache.set(this.key, await this.check(value, 'write'), options);
  }

  /** Shallow-merge fields into the stored object, only if it exists. Validated on the next read. */
  merge(patch: Partial<T>, options?: MergeOptions): Promise<boolean> {
    return this.cache.merge(this.key, patch as object, options);
  }

  delete(): Promise<boolean> {
    return this.cache.delete(this.key);
  }

  exists(): Promise<boolean> {
    return this.cache.exists(this.key);
  }

  expire(ttl: number): Promise<boolean> {
    return this.cache.expire(this.key, ttl);
  }

  /** The value; when missing, compute it with `fn`, validate, store and return it (one computation at a time). */
  remember(fn: () => T | Promise<T>, options?: RememberOptions): Promise<T> {
    return this.cache.rememberWith(this.key, fn, options, (value, direction) => this.check(value, direction) as Promise<T>);
  }

  /** Add to the number, atomically (an absent key starts at 0). */
  incr(amount = 1, options?: IncrOptions): Promise<number> {
    return this.cache.incr(this.key, amount, options);
  }

  /** Subtract from the number, atomically. */
  decr(amount = 1, options?: IncrOptions): Promise<number> {
    return this.cache.decr(this.key, amount, options);
  }
}
