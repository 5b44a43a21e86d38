import { getHeapStatistics } from 'node:v8';
import type { Engine, EngineHealth } from 'lix-cache-core';
import { redactUrl } from 'lix-cache-core';
import { version } from '../package.json';
import type { ChangeEvents, ChangeEventsStats } from './change-events';
import type { ServerConfig } from './config';
import type { ServerMetrics } from './metrics';

/** Where the data is kept across restarts. */
export type Persistence =
  /** The memory store without `--data-dir`: a restart starts empty. */
  | { kind: 'none' }
  /** The memory store with an append-only log and snapshots in `dataDir`. */
  | { kind: 'data-dir'; dataDir: string; fsync: ServerConfig['fsync'] }
  /** Valkey/Redis keeps the data (its own persistence settings apply). */
  | { kind: 'redis' };

/** The body of `GET /cache/info`: what the server is, how it is set up, and its counters since start. */
export interface ServerInfo {
  version: string;
  /** Seconds since the server started. */
  uptime: number;
  /** The store URL, credentials redacted. */
  store: string;
  persistence: Persistence;
  health: EngineHealth;
  auth: boolean;
  /** Commands run since start, by op. */
  operations: Record<string, number>;
  /** Failed requests and batch commands since start, by error code. */
  errors: Record<string, number>;
  /** Near-cache event channels (`GET /cache/events`). */
  events: ChangeEventsStats;
  /** V8 heap in use and its limit, in bytes. */
  heap: { used: number; limit: number };
}

/** Build the `GET /cache/info` answer for one server. */
export function createServerInfo(config: ServerConfig, engine: Engine, metrics: ServerMetrics, events: ChangeEvents): () => Promise<ServerInfo> {
  const startedAt = performance.now();
  const store = redactUrl(config.store);
  const persistence: Persistence = config.store !== 'memory://' ? { kind: 'redis' } : config.dataDir ? { kind: 'data-dir', dataDir: config.dataDir, fsync: config.fsync } : { kind: 'none' };
  return async () => {
    let health: EngineHealth;
    try {
      health = await engine.health();
    } catch (error) {
      health = { ok: false, code: 'unavailable', message: error instanceof Error ? error.message : String(error) };
    }
    const heap = getHeapStatistics();
    return {
      version,
      uptime: Math.round(performance.now() - startedAt) / 1000,
      store,
      persistence,
      health,
      auth: config.authEnabled,
      operations: metrics.operationCounts(),
      errors: await metrics.errorCounts(),
      events: events.stats(),
      heap: { used: heap.used_heap_size, limit: heap.heap_size_limit },
    };
  };
}
