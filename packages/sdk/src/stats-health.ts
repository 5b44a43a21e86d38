import type { EngineHealth, EngineStats } from 'lix-cache-core';

/**
 * The hit/miss/eviction/expiration/operation counters, as the original Lix Cache SDK nested them
 * (`stats.stats.hits`). A type, not an interface, so it is assignable to the original's `Record<string, unknown>`.
 */
export type CacheCounters = {
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
  operations: number;
};

/**
 * What `stats()` resolves: size, limit, memory and counters, flat (`stats.hits`), and the
 * counters once more under `stats` (`stats.stats.hits`), the original Lix Cache SDK's shape.
 */
export interface CacheStats extends EngineStats {
  /** The same counters as the flat fields, for code written against the original SDK. */
  stats: CacheCounters;
}

/** What `health()` resolves: `ok`, and `status`, the original Lix Cache SDK's word for it. */
export interface CacheHealth extends EngineHealth {
  /** `'healthy'` exactly when `ok` is true. */
  status: 'healthy' | 'unhealthy';
}

/** Add the nested counters to an engine's or server's stats. */
export function statsOf(stats: EngineStats): CacheStats {
  const { hits, misses, evictions, expirations, operations } = stats;
  return { ...stats, stats: { hits, misses, evictions, expirations, operations } };
}

/** Add `status` to an engine's or server's health. */
export function healthOf(health: EngineHealth): CacheHealth {
  return { ...health, status: health.ok ? 'healthy' : 'unhealthy' };
}
