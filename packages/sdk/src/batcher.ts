import type { Command, Result } from 'lix-cache-core';
import { resultCountMismatch, type Decode } from './decode';
import type { Transport } from './transports/transport';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  decode: Decode<unknown>;
}

/** What a command touches, for ordering: which commands may run concurrently with it. */
const READ = 0; // get (with or without touch), exists: one key
const WRITE = 1; // set, merge, delete, incr, decr, expire: one key
const READ_ALL = 2; // scan: any key
const WRITE_ALL = 3; // clear, invalidate: any key
type Access = typeof READ | typeof WRITE | typeof READ_ALL | typeof WRITE_ALL;

interface Pending<P> extends Waiter {
  prepared: P;
  safe: boolean;
  access: Access;
  /** The key of a one-key command. */
  key: string | undefined;
  /** For gets: the touch it carries, to match identical gets. */
  touch: number | undefined;
  /** Identical gets queued while this one waited, answered by its result. */
  followers: Waiter[] | undefined;
}

/** What a batch touches, in summary; enough to tell that two read-only batches never conflict. */
interface Summary {
  writes: boolean;
  readAll: boolean;
  writeAll: boolean;
}

/** A batch sent and not yet answered. */
interface Flight<P> extends Summary {
  batch: Pending<P>[];
  /** key → whether the batch writes it; built only when a batch with writes must be checked against this one. */
  keys: Map<string, boolean> | undefined;
}

/** Whether sending a command twice is harmless: not incr/decr, not a conditional set. */
export function isRetrySafe(command: Command): boolean {
  if (command.op === 'incr' || command.op === 'decr') return false;
  if (command.op === 'set') return !command.nx && !command.xx;
  return true;
}

function accessOf(command: Command): Access {
  switch (command.op) {
    case 'get':
    case 'exists':
      return READ;
    case 'scan':
      return READ_ALL;
    case 'clear':
    case 'invalidate':
      return WRITE_ALL;
    default:
      return WRITE;
  }
}

/** A deduplicated reader gets its own copy, so one caller mutating its object cannot touch another's. */
function copyFor(result: Result): Result {
  const value = (result as { value?: unknown }).value;
  return typeof value === 'object' && value !== null ? ({ ...result, value: structuredClone(value) } as Result) : result;
}

function deliver(waiter: Waiter, result: Result): void {
  let value: unknown;
  try {
    value = waiter.decode(result);
  } catch (error) {
    waiter.reject(error);
    return;
  }
  waiter.resolve(value);
}

function summarize<P>(queue: readonly Pending<P>[], size: number): Summary {
  let writes = false;
  let readAll = false;
  let writeAll = false;
  for (let i = 0; i < size; i++) {
    const access = queue[i]!.access;
    if (access === WRITE) writes = true;
    else if (access === READ_ALL) readAll = true;
    else if (access === WRITE_ALL) writes = writeAll = true;
  }
  return { writes, readAll, writeAll };
}

/** Whether the first `size` queued commands may run while `flight` is unanswered without changing any result. */
function conflicts<P>(queue: readonly Pending<P>[], size: number, summary: Summary, flight: Flight<P>): boolean {
  if (!summary.writes && !flight.writes) return false; // reads never disturb reads
  if (summary.writeAll || flight.writeAll) return true;
  if ((summary.readAll && flight.writes) || (flight.readAll && summary.writes)) return true;
  let keys = flight.keys;
  if (keys === undefined) {
    keys = flight.keys = new Map();
    for (const pending of flight.batch) {
      if (pending.key !== undefined && keys.get(pending.key) !== true) keys.set(pending.key, pending.access === WRITE);
    }
  }
  for (let i = 0; i < size; i++) {
    const pending = queue[i]!;
    if (pending.key === undefined) continue;
    const written = keys.get(pending.key);
    if (written === true || (written === false && pending.access === WRITE)) return true;
  }
  return false;
}

/**
 * Auto-pipelining, after ioredis, with adaptive batching: commands are queued
 * and flushed in a microtask (or after `batchWindow` ms), so one tick's commands
 * leave as ONE transport call (split at `maxBatchSize`). At most `maxInFlight`
 * batches are unanswered at a time; while all are, new commands keep queueing
 * and leave together when one is answered, so under load there are fewer, larger
 * requests and no added latency when idle. Identical gets queued together share one command, unless a command
 * in between changes that key.
 *
 * Order: a batch runs its commands in order on the server, but batches in
 * flight at once may run in any order. So a batch is sent while others are in
 * flight only if no command in it touches a key that a command in them touches
 * with a write on either side (scan counts as reading every key, clear and
 * invalidate as writing every key). Thus a command never overtakes an earlier one
 * of this client that could change its result; read-only batches (the chunks of
 * a big read) go out concurrently.
 */
export class Batcher<P> {
  private queue: Pending<P>[] = [];
  /** Queued (unsent) gets by key, to answer identical gets with one command. */
  private readonly gets = new Map<string, Pending<P>>();
  private readonly flights: Flight<P>[] = [];
  private scheduled = false;

  constructor(
    private readonly transport: Transport<P>,
    private readonly maxBatchSize: number,
    private readonly maxInFlight: number,
    /** Milliseconds to collect commands before flushing; 0: flush in a microtask (one tick). */
    private readonly window: number,
  ) {}

  /** Queue a validated command; resolves with `decode(result)`. Throws when the command cannot be prepared. */
  enqueue<R>(command: Command, decode: Decode<R>): Promise<R> {
    let key: string | undefined;
    if (command.op === 'get') {
      key = command.key;
      const prior = this.gets.get(key);
      if (prior !== undefined && prior.touch === command.touch) {
        return new Promise((resolve, reject) => (prior.followers ??= []).push({ resolve: resolve as (value: unknown) => void, reject, decode }));
      }
    } else if (command.op === 'clear' || command.op === 'invalidate') {
      this.gets.clear();
    } else if (command.op !== 'scan') {
      key = command.key;
      if (command.op !== 'exists') this.gets.delete(key);
    }
    const prepared = this.transport.prepare(command);
    return new Promise((resolve, reject) => {
      const pending: Pending<P> = {
        prepared,
        safe: isRetrySafe(command),
        access: accessOf(command),
        key,
        touch: command.op === 'get' ? command.touch : undefined,
        followers: undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
        decode,
      };
      this.queue.push(pending);
      if (command.op === 'get') this.gets.set(command.key, pending);
      if (!this.scheduled && this.flights.length < this.maxInFlight) {
        this.scheduled = true;
        if (this.window > 0) setTimeout(this.flush, this.window);
        else queueMicrotask(this.flush);
      }
    });
  }

  /** Send one command on its own, now (batching off, in-process transports). */
  sendNow<R>(command: Command, decode: Decode<R>): Promise<R> {
    return this.transport.executeOne(this.transport.prepare(command), isRetrySafe(command), decode);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    this.pump();
  };

  /** Send queued commands while a slot is free and the next batch conflicts with nothing in flight. */
  private pump(): void {
    while (this.queue.length > 0 && this.flights.length < this.maxInFlight) {
      const queue = this.queue;
      const size = Math.min(queue.length, this.maxBatchSize);
      const summary = summarize(queue, size);
      for (const flight of this.flights) if (conflicts(queue, size, summary, flight)) return; // retried when a flight lands
      let batch: Pending<P>[];
      if (size === queue.length) {
        batch = queue;
        this.queue = [];
        this.gets.clear();
      } else {
        batch = queue.splice(0, size);
        for (const pending of batch) if (pending.key !== undefined && this.gets.get(pending.key) === pending) this.gets.delete(pending.key);
      }
      this.launch(batch, summary);
    }
  }

  private launch(batch: Pending<P>[], summary: Summary): void {
    const flight: Flight<P> = { batch, writes: summary.writes, readAll: summary.readAll, writeAll: summary.writeAll, keys: undefined };
    this.flights.push(flight);
    const prepared = new Array<P>(batch.length);
    let safe = true;
    for (let i = 0; i < batch.length; i++) {
      prepared[i] = batch[i]!.prepared;
      if (!batch[i]!.safe) safe = false;
    }
    let sent: Promise<Result[]>;
    try {
      sent = this.transport.execute(prepared, safe);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (results) => {
        if (results.length !== batch.length) {
          this.land(flight);
          return fail(batch, resultCountMismatch(batch.length, results.length));
        }
        const resent = this.resendLateReads(batch, results);
        this.land(flight);
        for (let i = 0; i < batch.length; i++) {
          const pending = batch[i]!;
          const result = results[i]!;
          if (resent && result === RESENT) continue;
          deliver(pending, result);
          if (pending.followers) for (const follower of pending.followers) deliver(follower, copyFor(result));
        }
      },
      (error: unknown) => {
        this.land(flight);
        fail(batch, error);
      },
    );
  }

  /**
   * The server answers the reads of a batch until its response budget (LIX_MAX_RESPONSE_BYTES)
   * is spent; later reads come back as `response_too_large` error results while the batch's
   * other commands ran. Such a read that was not the batch's first read is queued again,
   * ahead of every command queued after it (so no later write overtakes it), and its result
   * marked RESENT. Each batch answers at least its first read, so this always ends; a first
   * read that is too large on its own fails with the server's error, and so does a read that
   * a later write of its own batch already changed (sent again, it would see that write).
   */
  private resendLateReads(batch: readonly Pending<P>[], results: Result[]): boolean {
    let firstRead = true;
    let late: number[] | undefined;
    for (let i = 0; i < batch.length; i++) {
      const access = batch[i]!.access;
      if (access !== READ && access !== READ_ALL) continue;
      if (!firstRead && isTooLarge(results[i])) (late ??= []).push(i);
      firstRead = false;
    }
    if (late === undefined) return false;
    // What the batch wrote after each late read: one backward pass, only on this rare path.
    const writtenAfter = new Set<string>();
    let writesAfter = false;
    let writeAllAfter = false;
    const resend: Pending<P>[] = [];
    for (let i = batch.length - 1, next = late.length - 1; i >= 0 && next >= 0; i--) {
      const pending = batch[i]!;
      if (i === late[next]) {
        next--;
        const changed = writeAllAfter || (pending.access === READ_ALL ? writesAfter : writtenAfter.has(pending.key!));
        if (!changed) {
          resend.push(pending);
          results[i] = RESENT;
        }
      } else if (pending.access === WRITE) {
        writesAfter = true;
        writtenAfter.add(pending.key!);
      } else if (pending.access === WRITE_ALL) writesAfter = writeAllAfter = true;
    }
    if (resend.length === 0) return false;
    resend.reverse();
    this.queue = this.queue.length === 0 ? resend : resend.concat(this.queue);
    return true;
  }

  /** A batch was answered: free its slot and send what queued meanwhile, before the answer's callers run. */
  private land(flight: Flight<P>): void {
    this.flights.splice(this.flights.indexOf(flight), 1);
    this.pump();
  }
}

/** Marks a result whose command was queued again (see resendLateReads). */
const RESENT = { op: 'resent', error: { code: 'resent', message: '' } } as Result;

function isTooLarge(result: unknown): boolean {
  const error = (result as { error?: { code?: unknown } } | null | undefined)?.error;
  return typeof error === 'object' && error !== null && error.code === 'response_too_large';
}

function fail<P>(batch: readonly Pending<P>[], error: unknown): void {
  for (const pending of batch) {
    pending.reject(error);
    if (pending.followers) for (const follower of pending.followers) follower.reject(error);
  }
}
