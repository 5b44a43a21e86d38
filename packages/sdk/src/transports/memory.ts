import { resolveLimits } from 'lix-cache-core';
import type { MemoryEngineOptions } from 'lix-cache-core/memory';
import type { ResolvedConfig } from '../config';
import { LixCacheError } from '../errors';
import { EngineTransport } from './engine';
import type { Transport } from './transport';

const NUMBER_PARAMS = ['limit', 'maxMemory', 'sweepIntervalMs'] as const;
const FSYNC = ['always', 'everysec', 'no'] as const;
const KNOWN = [...NUMBER_PARAMS, 'dataDir', 'fsync'];

function invalid(message: string): LixCacheError {
  return new LixCacheError('invalid_config', message);
}

function engineOptions(url: URL): MemoryEngineOptions {
  const options: MemoryEngineOptions & Record<string, unknown> = {};
  let fsync: (typeof FSYNC)[number] | undefined;
  for (const [name, raw] of url.searchParams) {
    if (name === 'dataDir') {
      if (raw === '') throw invalid('memory:// parameter "dataDir" is empty; give a directory, e.g. memory://app?dataDir=./.data/cache.');
      options.persistence = { dir: raw };
    } else if (name === 'fsync') {
      if (!(FSYNC as readonly string[]).includes(raw)) throw invalid(`memory:// parameter "fsync" must be one of ${FSYNC.join(', ')}; got "${raw}".`);
      fsync = raw as (typeof FSYNC)[number];
    } else if ((NUMBER_PARAMS as readonly string[]).includes(name)) {
      const value = Number(raw);
      if (raw === '' || !Number.isInteger(value) || value < 0) throw invalid(`memory:// parameter "${name}" must be a whole number; got "${raw}".`);
      options[name] = value;
    } else {
      throw invalid(`Unknown memory:// parameter "${name}". Known: ${KNOWN.join(', ')}.`);
    }
  }
  if (fsync !== undefined) {
    if (!options.persistence) throw invalid('memory:// parameter "fsync" needs "dataDir" (it says when writes reach the disk).');
    options.persistence.fsync = fsync;
  }
  return options;
}

/**
 * `memory://[name][?limit=&maxMemory=&sweepIntervalMs=&dataDir=&fsync=]`: a MemoryEngine
 * in this process, no server; `dataDir` makes it durable (append-only log + snapshots,
 * reloaded by the next engine on that directory). The same URL in one process is the same engine.
 * MemoryEngine is imported on first use (so that importing the SDK stays light): the first
 * command waits for it, and an engine that cannot open (a damaged or locked `dataDir`) fails it.
 */
export function openMemory(config: ResolvedConfig): Transport {
  const url = new URL(config.url);
  return new EngineTransport(config.url, () => {
    const options = engineOptions(url);
    const engine = import('lix-cache-core/memory').then(({ MemoryEngine }) => new MemoryEngine(options));
    return { engine, limits: resolveLimits(options.limits) };
  }) as Transport;
}
