import type { ResolvedConfig } from '../config';
import { HttpTransport } from './http';
import { MemoryTransport } from './memory';
import { openRedis } from './redis';
import type { Transport } from './transport';

/** The transport for a URL's scheme (checked by resolveConfig). */
export function openTransport(config: ResolvedConfig): Transport {
  switch (config.url.protocol) {
    case 'http:':
    case 'https:':
      return new HttpTransport(config) as Transport;
    case 'memory:':
      return new MemoryTransport(config) as Transport;
    default:
      return openRedis(config);
  }
}
