import type { ResolvedConfig } from '../config';
import { HttpTransport } from './http';
import { nodeHttpClient } from './node-http-client';
import { openMemory } from './memory';
import { openRedis } from './redis';
import type { Transport } from './transport';

/** The transport for a URL's scheme (checked by resolveConfig). */
export function openTransport(config: ResolvedConfig): Transport {
  switch (config.scheme) {
    case 'http':
    case 'https':
      return new HttpTransport(config, nodeHttpClient) as Transport;
    case 'memory':
      return openMemory(config);
    default:
      return openRedis(config);
  }
}
