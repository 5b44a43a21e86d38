import type { ResolvedConfig } from '../config';
import { LixCacheError } from '../errors';
import type { Transport } from './transport';

/** `redis://`, `rediss://`, `redis-cluster://`: RedisEngine straight to Valkey/Redis. */
export function openRedis(config: ResolvedConfig): Transport {
  throw new LixCacheError(
    'unsupported_url',
    `${config.url.protocol}// is not available yet in this version of lix-cache-sdk (it needs RedisEngine from lix-cache-core). ` +
      'Run a Lix Cache server in front of Redis (npx lix-cache-server --store redis://…) and use its http:// URL.',
  );
}
