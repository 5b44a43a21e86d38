import type { Command, Engine, EngineHealth, EngineStats, Limits, Result } from 'lix-cache-core';
import { redactUrl } from 'lix-cache-core';
import { decodeOne, type Decode } from '../decode';
import { fromCoreError, LixCacheError } from '../errors';
import type { Transport } from './transport';

interface Shared {
  engine: Engine;
  limits: Limits;
  users: number;
}

/** One engine per URL in this process, so clients created separately with the same URL share data and connections. */
const engines = new Map<string, Shared>();

/**
 * An engine in this process (MemoryEngine, RedisEngine), shared by every client
 * with the same URL and closed when the last of them closes. Commands run at
 * once, one engine call each: an in-process engine gains nothing from batching,
 * and RedisEngine's ioredis pipelines each tick's commands by itself.
 */
export class EngineTransport implements Transport<Command> {
  readonly immediate = true;
  readonly limits: Limits;
  private readonly shared: Shared;
  private released = false;

  constructor(
    private readonly id: string,
    create: () => { engine: Engine; limits: Limits },
    private readonly mapError: (error: unknown) => unknown = fromCoreError,
  ) {
    let shared = engines.get(id);
    if (!shared) {
      try {
        shared = { ...create(), users: 0 };
      } catch (error) {
        if (error instanceof LixCacheError) throw error;
        throw new LixCacheError('invalid_config', `Cannot open ${redactUrl(id)}: ${(error as Error).message}`, { cause: error });
      }
      engines.set(id, shared);
    }
    shared.users++;
    this.shared = shared;
    this.limits = shared.limits;
  }

  prepare(command: Command): Command {
    return command;
  }

  execute(commands: readonly Command[]): Promise<Result[]> {
    return this.shared.engine.execute(commands).catch(this.rethrow);
  }

  executeOne<R>(command: Command, _retrySafe: boolean, decode: Decode<R>): Promise<R> {
    return this.shared.engine.execute([command]).then((results) => decodeOne(results, decode), this.rethrow);
  }

  private readonly rethrow = (error: unknown): never => {
    throw this.mapError(error);
  };

  stats(): Promise<EngineStats> {
    return this.shared.engine.stats().catch((error: unknown) => {
      throw this.mapError(error);
    });
  }

  health(): Promise<EngineHealth> {
    return this.shared.engine.health().catch((error: unknown) => ({ ok: false, message: (error as Error)?.message ?? String(error) }));
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
