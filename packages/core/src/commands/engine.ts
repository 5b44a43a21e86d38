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
 * A storage engine. `execute` runs commands in order and returns one result
 * per command; a command that fails gets an ErrorResult and the rest still
 * run. Commands are already validated by `parseCommand`.
 */
export interface Engine {
  execute(commands: readonly Command[]): Promise<Result[]>;
  stats(): Promise<EngineStats>;
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}
