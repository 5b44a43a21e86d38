import type { ChangeListener, Command, Engine, EngineHealth, EngineStats, Limits, Result, Watch } from 'lix-cache-core';
import { LixError, redactUrl } from 'lix-cache-core';
import { decodeOne, type Decode } from '../decode';
import { fromCoreError, LixCacheError } from '../errors';
import type { Transport } from './transport';

interface Shared {
  /** Set once the engine is open: at once for an engine built in place, after its import for one loaded on demand. */
  engine?: Engine;
  /** Resolves to the engine; rejects (already mapped, see `openFailure`) when it could not be opened. */
  ready: Promise<Engine>;
  limits: Limits;
  users: number;
}

/** One engine per URL in this process, so clients created separately with the same URL share data and connections. */
const engines = new Map<string, Shared>();

/** Why `id` could not be opened, as the SDK's typed error. */
function openFailure(id: string, error: unknown): LixCacheError {
  if (error instanceof LixCacheError) return error;
  // Core's coded errors keep their code, e.g. missing_dependency (an optional peer such as ioredis is not installed).
  if (error instanceof LixError) return fromCoreError(error) as LixCacheError;
  return new LixCacheError('invalid_config', `Cannot open ${redactUrl(id)}: ${(error as Error).message}`, { cause: error });
}

/**
 * An engine in this process (MemoryEngine, RedisEngine), shared by every client
 * with the same URL and closed when the last of them closes. Commands run at
 * once, one engine call each: an in-process engine gains nothing from batching,
 * and RedisEngine's ioredis pipelines each tick's commands by itself.
 * `create` may hand back the engine as a promise (the engines are imported on
 * first use, so that importing the SDK loads neither node:fs nor ioredis):
 * commands sent before it resolves wait for it.
 */
export class EngineTransport implements Transport<Command> {
  readonly immediate = true;
  readonly limits: Limits;
  private readonly shared: Shared;
  private released = false;

  constructor(
    private readonly id: string,
    create: () => { engine: Engine | Promise<Engine>; limits: Limits },
    private readonly mapError: (error: unknown) => unknown = fromCoreError,
  ) {
    let shared = engines.get(id);
    if (!shared) {
      let opened: { engine: Engine | Promise<Engine>; limits: Limits };
      try {
        opened = create();
      } catch (error) {
        throw openFailure(id, error);
      }
      const { engine, limits } = opened;
      const entry: Shared = { limits, users: 0, engine: engine instanceof Promise ? undefined : engine, ready: Promise.resolve(engine) };
      entry.ready = entry.ready.then(
        (loaded) => (entry.engine = loaded),
        (error: unknown) => {
          throw openFailure(id, error);
        },
      );
      // A client that never sends a command must not leave an unhandled rejection behind.
      entry.ready.catch(() => {});
      shared = entry;
      engines.set(id, shared);
    }
    shared.users++;
    this.shared = shared;
    this.limits = shared.limits;
  }

  /** `use(engine)`, at once when the engine is open, else once it is. */
  private withEngine<T>(use: (engine: Engine) => Promise<T>): Promise<T> {
    const { engine, ready } = this.shared;
    return engine ? use(engine) : ready.then(use);
  }

  prepare(command: Command): Command {
    return command;
  }

  execute(commands: readonly Command[]): Promise<Result[]> {
    return this.withEngine((engine) => engine.execute(commands)).catch(this.rethrow);
  }

  executeOne<R>(command: Command, _retrySafe: boolean, decode: Decode<R>): Promise<R> {
    return this.withEngine((engine) => engine.execute([command])).then((results) => decodeOne(results, decode), this.rethrow);
  }

  private readonly rethrow = (error: unknown): never => {
    throw this.mapError(error);
  };

  /** The engine's own change feed (memory: synchronous, so trivially coherent; Redis: its tracking). Prefixes filter in the near cache. */
  watch(listener: ChangeListener): Watch {
    let inner: Watch | undefined;
    let closed = false;
    const start = (engine: Engine): void => {
      if (closed) return;
      inner = engine.watch(listener);
      if (inner.live) listener.live(true);
    };
    const { engine, ready } = this.shared;
    if (engine) start(engine);
    else ready.then(start, () => {});
    return {
      get live() {
        return inner?.live ?? false;
      },
      close() {
        closed = true;
        inner?.close();
      },
    };
  }

  stats(): Promise<EngineStats> {
    return this.withEngine((engine) => engine.stats()).catch((error: unknown) => {
      throw this.mapError(error);
    });
  }

  health(): Promise<EngineHealth> {
    return this.withEngine((engine) => engine.health()).catch((error: unknown) => ({ ok: false, message: (error as Error)?.message ?? String(error) }));
  }

  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (--this.shared.users === 0) {
      engines.delete(this.id);
      // An engine that never opened has nothing to close.
      await this.shared.ready.then((engine) => engine.close(), () => {});
    }
  }
}
