import type { Command, Result } from 'lix-cache-core';
import { LixServerError } from './errors';
import type { Transport } from './transports/transport';

interface Waiter {
  resolve(result: Result): void;
  reject(error: unknown): void;
}

interface Pending<P> extends Waiter {
  prepared: P;
  safe: boolean;
  /** For gets: the touch it carries, to match identical gets. */
  touch: number | undefined;
  /** Identical gets issued in the same tick, answered by this one's result. */
  followers: Waiter[] | undefined;
}

/** Whether sending a command twice is harmless: not incr/decr, not a conditional set. */
export function isRetrySafe(command: Command): boolean {
  if (command.op === 'incr' || command.op === 'decr') return false;
  if (command.op === 'set') return !command.nx && !command.xx;
  return true;
}

/** Gets must not share a result across a command that changes the key. */
function changesKey(command: Command): string | true | undefined {
  switch (command.op) {
    case 'set':
    case 'merge':
    case 'delete':
    case 'incr':
    case 'decr':
    case 'expire':
      return command.key;
    case 'clear':
    case 'invalidate':
      return true;
    default:
      return undefined;
  }
}

/** A deduplicated reader gets its own copy, so one caller mutating its object cannot touch another's. */
function copyFor(result: Result): Result {
  const value = (result as { value?: unknown }).value;
  return typeof value === 'object' && value !== null ? ({ ...result, value: structuredClone(value) } as Result) : result;
}

/**
 * Auto-pipelining, after ioredis: commands issued in one tick are queued and
 * flushed together in a microtask as ONE transport call (split at
 * `maxBatchSize`, chunks sent in order). Identical gets in the same flush
 * share one command, unless a command in between changes that key.
 */
export class Batcher<P> {
  private queue: Pending<P>[] = [];
  private readonly gets = new Map<string, Pending<P>>();
  private scheduled = false;

  constructor(
    private readonly transport: Transport<P>,
    private readonly maxBatchSize: number,
  ) {}

  /** Queue a validated command for this tick's batch. */
  enqueue(command: Command): Promise<Result> {
    if (command.op === 'get') {
      const prior = this.gets.get(command.key);
      if (prior !== undefined && prior.touch === command.touch) {
        return new Promise((resolve, reject) => (prior.followers ??= []).push({ resolve, reject }));
      }
    } else {
      const changed = changesKey(command);
      if (changed === true) this.gets.clear();
      else if (changed !== undefined) this.gets.delete(changed);
    }
    const prepared = this.transport.prepare(command);
    return new Promise((resolve, reject) => {
      const pending: Pending<P> = {
        prepared,
        safe: isRetrySafe(command),
        touch: command.op === 'get' ? command.touch : undefined,
        followers: undefined,
        resolve,
        reject,
      };
      this.queue.push(pending);
      if (command.op === 'get') this.gets.set(command.key, pending);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flush);
      }
    });
  }

  /** Send one command on its own, now (batching off). */
  async sendNow(command: Command): Promise<Result> {
    const results = await this.transport.execute([this.transport.prepare(command)], isRetrySafe(command));
    if (results.length !== 1) throw mismatch(1, results.length);
    return results[0]!;
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    this.gets.clear();
    if (queue.length <= this.maxBatchSize) void this.send(queue);
    else void this.sendInChunks(queue);
  };

  private async sendInChunks(queue: Pending<P>[]): Promise<void> {
    // In order, one after another: a batch's commands run in the order they were issued.
    for (let start = 0; start < queue.length; start += this.maxBatchSize) {
      await this.send(queue.slice(start, start + this.maxBatchSize));
    }
  }

  private async send(batch: Pending<P>[]): Promise<void> {
    const prepared = new Array<P>(batch.length);
    let safe = true;
    for (let i = 0; i < batch.length; i++) {
      prepared[i] = batch[i]!.prepared;
      if (!batch[i]!.safe) safe = false;
    }
    let results: Result[];
    try {
      results = await this.transport.execute(prepared, safe);
      if (results.length !== batch.length) throw mismatch(batch.length, results.length);
    } catch (error) {
      for (const pending of batch) {
        pending.reject(error);
        if (pending.followers) for (const follower of pending.followers) follower.reject(error);
      }
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i]!;
      const result = results[i]!;
      pending.resolve(result);
      if (pending.followers) for (const follower of pending.followers) follower.resolve(copyFor(result));
    }
  }
}

function mismatch(sent: number, got: number): LixServerError {
  return new LixServerError('internal', `The server answered ${got} results for ${sent} commands. Check that the URL points at a Lix Cache server of a compatible version.`);
}
