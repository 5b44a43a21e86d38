import { MemoryEngine, resolveLimits, type Command, type Limits, type MemoryEngineOptions, type Result } from 'lix-cache-core';
import type { ResolvedConfig } from '../config';
import { fromCoreError, LixCacheError } from '../errors';
import type { CacheHealth, CacheStats, Transport } from './transport';

interface Shared {
  engine: MemoryEngine;
  limits: Limits;
  users: number;
}

/** One engine per URL in this process, so clients created separately with the same URL share their data. */
const engines = new Map<string, Shared>();

const NUMBER_PARAMS = ['limit', 'maxMemory', 'sweepIntervalMs'] as const;

function engineOptions(url: URL): MemoryEngineOptions {
  const options: Record<string, unknown> = {};
  for (const [name, raw] of url.searchParams) {
    if ((NUMBER_PARAMS as readonly string[]).includes(name)) {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) {
        throw new LixCacheError('invalid_config', `memory:// parameter "${name}" must be a whole number; got "${raw}".`);
      }
      options[name] = value;
    } else if (name === 'dataDir') {
      options.dataDir = raw;
    } else {
      throw new LixCacheError('invalid_config', `Unknown memory:// parameter "${name}". Known: ${[...NUMBER_PARAMS, 'dataDir'].join(', ')}.`);
    }
  }
  return options as MemoryEngineOptions;
}

/**
 * `memory://[name][?limit=&maxMemory=&dataDir=]`: the MemoryEngine in this process, no server.
 * The same URL (name and parameters) in one process means the same engine; it is
 * closed when the last client using it closes.
 */
export class MemoryTransport implements Transport<Command> {
  // MemoryEngine runs a command (and encodes its value) synchronously inside execute().
  readonly immediate = true;
  readonly limits: Limits;
  private readonly id: string;
  private readonly shared: Shared;
  private released = false;

  constructor(config: ResolvedConfig) {
    this.id = config.url.href;
    let shared = engines.get(this.id);
    if (!shared) {
      const options = engineOptions(config.url);
      try {
        shared = { engine: new MemoryEngine(options), limits: resolveLimits(options.limits), users: 0 };
      } catch (error) {
        throw new LixCacheError('invalid_config', `Cannot open ${this.id}: ${(error as Error).message}`, { cause: error });
      }
      engines.set(this.id, shared);
    }
    shared.users++;
    this.shared = shared;
    this.limits = shared.limits;
  }

  prepare(command: Command): Command {
    return command;
  }

  execute(commands: readonly Command[]): Promise<Result[]> {
    return this.shared.engine.execute(commands).catch((error: unknown) => {
      throw fromCoreError(error);
    });
  }

  stats(): Promise<CacheStats> {
    return this.shared.engine.stats();
  }

  health(): Promise<CacheHealth> {
    return this.shared.engine.health();
  }

  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (--this.shared.users === 0) {
      engines.delete(this.id);
      await this.shared.engine.close();
    }
  }
}
