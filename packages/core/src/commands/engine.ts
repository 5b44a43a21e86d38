import type { Command, Result } from './commands';

/** Counters every engine reports. */
export interface EngineStats {
  /** Which engine answers: 'memory' or 'redis'. */
  engine: string;
  /** Live keys. */
  size: number;
  /** Item limit (keys); past it the least recently used keys are evicted. */
  limit: number;
  /** Bytes held (estimated for memory, `used_memory` for Redis). */
  memory: number;
  /** Memory budget in bytes; 0 means none. */
  maxMemory: number;
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
  operations: number;
}

/** What `Engine.health()` reports. */
export interface EngineHealth {
  ok: boolean;
  /** Why not, when `ok` is false. */
  message?: string;
  /** The error code that says so: `unavailable` (default) or `persistence_failed` (reads work, writes are refused). */
  code?: 'unavailable' | 'persistence_failed';
}

/**
 * Receives what changed in an engine, for near caches and `GET /cache/events`
 * (see `Engine.watch`). Calls are synchronous and must not throw.
 */
export interface ChangeListener {
  /** `key` may have changed: written, merged, incremented, deleted, expired, evicted, or its TTL changed. */
  changed(key: string): void;
  /** Every key may have changed (`clear`). */
  changedAll(): void;
  /**
   * The feed went down (`false`) or is complete again (`true`). While down, changes
   * may go unreported (Redis: the tracking connection is lost), so whatever a near
   * cache holds must be dropped and nothing cached until it is back up.
   */
  live(up: boolean): void;
}

/** A registration made by `Engine.watch`. */
export interface Watch {
  /** Whether changes are reported right now (memory: always; Redis: once tracking is set up, until its connection drops). */
  readonly live: boolean;
  /** Stop listening. */
  close(): void;
}

/**
 * A storage engine. `execute` runs commands in order and returns one result
 * per command; a command that fails gets an ErrorResult and the rest still
 * run. Commands are already validated by `parseCommand`.
 */
export interface Engine {
  execute(commands: readonly Command[]): Promise<Result[]>;
  stats(): Promise<EngineStats>;
  health(): Promise<EngineHealth>;
  /**
   * Report every change to `listener`, including those made by other processes
   * sharing the store (Redis), expiry and eviction. Starts the feed on first use.
   */
  watch(listener: ChangeListener): Watch;
  close(): Promise<void>;
}
