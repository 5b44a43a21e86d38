import { MemoryEngine, resolveLimits, type MemoryEngineOptions } from 'lix-cache-core';
import type { ResolvedConfig } from '../config';
import { LixCacheError } from '../errors';
import { EngineTransport } from './engine';
import type { Transport } from './transport';

const NUMBER_PARAMS = ['limit', 'maxMemory', 'sweepIntervalMs'] as const;

function engineOptions(url: URL): MemoryEngineOptions {
  const options: Record<string, number> = {};
  for (const [name, raw] of url.searchParams) {
    if (!(NUMBER_PARAMS as readonly string[]).includes(name)) {
      const hint = name === 'dataDir' ? ' (persistence is not available in this version of lix-cache-core yet)' : '';
      throw new LixCacheError('invalid_config', `Unknown memory:// parameter "${name}"${hint}. Known: ${NUMBER_PARAMS.join(', ')}.`);
    }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) {
      throw new LixCacheError('invalid_config', `memory:// parameter "${name}" must be a whole number; got "${raw}".`);
    }
    options[name] = value;
  }
  return options;
}

/**
 * `memory://[name][?limit=&maxMemory=&sweepIntervalMs=]`: a MemoryEngine in this
 * process, no server. The same URL in one process is the same engine.
 */
export function openMemory(config: ResolvedConfig): Transport {
  const url = new URL(config.url);
  return new EngineTransport(config.url, () => {
    const options = engineOptions(url);
    return { engine: new MemoryEngine(options), limits: resolveLimits(options.limits) };
  }) as Transport;
}
