import type { ResolvedConfig } from '../config';
import { LixCacheError } from '../errors';
import { HttpTransport } from './http';
import { fetchClient } from './http-client';
import type { Transport } from './transport';

/** The browser build swaps this in for open.ts: only http(s) works there, and no Node module is bundled. */
export function openTransport(config: ResolvedConfig): Transport {
  if (config.scheme === 'http' || config.scheme === 'https') return new HttpTransport(config, fetchClient) as Transport;
  throw new LixCacheError(
    'unsupported_url',
    `${config.scheme}:// runs only in Node. In a browser, use the http(s):// URL of a Lix Cache server.`,
  );
}
