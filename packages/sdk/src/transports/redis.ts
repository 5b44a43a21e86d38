import { LixError, RedisEngine, redactUrl, resolveLimits } from 'lix-cache-core';
import type { ResolvedConfig } from '../config';
import { fromCoreError, LixCacheError, LixConnectionError } from '../errors';
import { EngineTransport } from './engine';
import type { Transport } from './transport';

/**
 * `redis://`, `rediss://`, `redis-cluster://`, `rediss-cluster://`: RedisEngine
 * straight to Valkey/Redis, no Lix server. `?keyPrefix=app:` sets the prefix of
 * the Redis keys it writes (default `lix:`).
 */
export function openRedis(config: ResolvedConfig): Transport {
  const [url, query = ''] = config.url.split('?', 2) as [string, string?];
  let keyPrefix: string | undefined;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name !== 'keyPrefix') throw new LixCacheError('invalid_config', `Unknown ${config.scheme}:// parameter "${name}". Known: keyPrefix.`);
    keyPrefix = value;
  }
  return new EngineTransport(
    config.url,
    () => ({ engine: new RedisEngine({ url, keyPrefix, commandTimeoutMs: config.timeout }), limits: resolveLimits() }),
    // Redis unreachable is, for this client, a connection failure.
    (error) =>
      error instanceof LixError && error.code === 'unavailable'
        ? new LixConnectionError(`${error.message} (Redis at ${redactUrl(url)})`, { cause: error })
        : fromCoreError(error),
  ) as Transport;
}
