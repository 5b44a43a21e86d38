import { importWithPeer, LixError, parseRedisUrl, redactUrl, resolveLimits } from 'lix-cache-core';
import type { ResolvedConfig } from '../config';
import { fromCoreError, LixCacheError, LixConnectionError } from '../errors';
import { EngineTransport } from './engine';
import type { Transport } from './transport';

/**
 * `redis://`, `rediss://`, `redis-cluster://`, `rediss-cluster://`: RedisEngine
 * straight to Valkey/Redis, no Lix server. `?keyPrefix=app:` sets the prefix of
 * the Redis keys it writes (default `lix:`). RedisEngine (and ioredis, an optional
 * peer dependency) is imported here, on first use: the first command waits for it.
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
    () => {
      // A malformed URL is refused here, by the constructor, as before the engine was imported on demand.
      parseRedisUrl(url);
      const engine = importWithPeer(() => import('lix-cache-core/redis'), 'ioredis', `The ${config.scheme}:// transport`).then(
        ({ RedisEngine }) => new RedisEngine({ url, keyPrefix, commandTimeoutMs: config.timeout }),
      );
      return { engine, limits: resolveLimits() };
    },
    // Redis unreachable is, for this client, a connection failure.
    (error) =>
      error instanceof LixError && error.code === 'unavailable'
        ? new LixConnectionError(`${error.message} (Redis at ${redactUrl(url)})`, { cause: error })
        : fromCoreError(error),
  ) as Transport;
}
