import type { ChangeListener, Command, EngineHealth, EngineStats, Limits, Result, Watch } from 'lix-cache-core';
import type { Decode } from '../decode';

/**
 * Carries commands to an engine: over HTTP to a server, or in-process. The
 * batcher hands it whole batches; per-command failures come back as error
 * results, transport failures as thrown LixCacheErrors.
 */
export interface Transport<P = unknown> {
  /**
   * In-process transports run each command at once (nothing to save by batching,
   * and the value is encoded at the call); remote ones batch per tick.
   */
  readonly immediate: boolean;
  /** Limits used to validate commands before they leave the client. */
  readonly limits: Limits;
  /**
   * Freeze a validated command as it is issued (HTTP: its JSON), so a caller that
   * mutates a value after `set()` returns does not change what is stored.
   */
  prepare(command: Command): P;
  /**
   * Run prepared commands in order, one result each. `retrySafe` says whether
   * repeating the whole batch is harmless (no incr/decr, no conditional set).
   */
  execute(prepared: readonly P[], retrySafe: boolean): Promise<Result[]>;
  /** Run one prepared command and resolve with `decode` of its result (one promise less than execute + then: the hot path of in-process engines). */
  executeOne<R>(prepared: P, retrySafe: boolean, decode: Decode<R>): Promise<R>;
  /**
   * Tell `listener` of every change the engine reports (the near cache): over the server's
   * event channel, or straight from an in-process engine. `prefixes`: only keys under them
   * (broadcast); undefined: the keys this client reads (tracking).
   */
  watch(listener: ChangeListener, prefixes: readonly string[] | undefined): Watch;
  stats(): Promise<EngineStats>;
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}
