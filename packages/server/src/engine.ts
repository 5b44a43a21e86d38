import type { Engine } from 'lix-cache-core';
import { LixError, MemoryEngine } from 'lix-cache-core';
import type { ServerConfig } from './config';

/**
 * Open the engine the store URL names. The one place that maps a URL scheme
 * to an engine: `memory://` (default) or `redis://` / `rediss://`.
 */
export async function openEngine(config: Pick<ServerConfig, 'store' | 'limit' | 'maxMemory' | 'limits'>): Promise<Engine> {
  const scheme = config.store.slice(0, config.store.indexOf(':'));
  switch (scheme) {
    case 'memory':
      return new MemoryEngine({ limit: config.limit, maxMemory: config.maxMemory, limits: config.limits });
    case 'redis':
    case 'rediss':
      throw new LixError('unavailable', `The ${scheme}:// store is not available yet in this build of lix-cache-server. Use --store memory:// (the default) for now.`);
    default:
      throw new LixError('invalid_command', `Unknown store "${config.store}". Use memory:// or redis://host:port (flag --store, env LIX_STORE).`);
  }
}
