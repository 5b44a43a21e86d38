import type { Engine } from 'lix-cache-core';
import { importWithPeer, LixError, redactUrl } from 'lix-cache-core';
import type { PersistenceLogger } from 'lix-cache-core/memory';
import type { ServerConfig } from './config';

/**
 * Open the engine the store URL names. The one place that maps a URL scheme
 * to an engine: `memory://` (default), or Redis/Valkey: `redis://` / `rediss://`
 * (standalone) and `redis-cluster://h1:p1,h2:p2` / `rediss-cluster://` (Cluster),
 * each optionally with `?keyPrefix=`. Redis bounds memory itself (its
 * `maxmemory`), so `maxMemory` applies to the memory store only. Each engine is
 * imported when its store is chosen, so a Redis server never loads the memory engine
 * and a memory server never loads ioredis.
 */
export async function openEngine(
  config: Pick<ServerConfig, 'store' | 'limit' | 'maxMemory' | 'limits'> & Partial<Pick<ServerConfig, 'dataDir' | 'fsync' | 'snapshotIntervalMs'>>,
  /** Receives the memory store's persistence messages (keys loaded, dropped torn records, write errors). */
  log?: PersistenceLogger,
): Promise<Engine> {
  const scheme = config.store.slice(0, config.store.indexOf(':'));
  switch (scheme) {
    case 'memory': {
      // With a data dir the constructor loads the snapshot and log (and throws a PersistenceError on damage).
      const persistence =
        config.dataDir === undefined ? undefined : { dir: config.dataDir, fsync: config.fsync, snapshotIntervalMs: config.snapshotIntervalMs, log };
      const { MemoryEngine } = await import('lix-cache-core/memory');
      return new MemoryEngine({ limit: config.limit, maxMemory: config.maxMemory, limits: config.limits, persistence });
    }
    case 'redis':
    case 'rediss':
    case 'redis-cluster':
    case 'rediss-cluster': {
      // ioredis is a dependency of this package; the check still names it should an install have dropped it.
      const { RedisEngine } = await importWithPeer(() => import('lix-cache-core/redis'), 'ioredis', 'The Redis store (--store redis://…)');
      // Connects in the background: until Redis answers, /health and every request say 503.
      return new RedisEngine({ url: config.store, limit: config.limit, limits: config.limits });
    }
    default:
      throw new LixError('invalid_command', `Unknown store "${redactUrl(config.store)}". Use memory://, redis://host:port or redis-cluster://host1:port1,host2:port2 (flag --store, env LIX_STORE).`);
  }
}
