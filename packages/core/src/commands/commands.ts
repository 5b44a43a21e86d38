/**
 * The one language of Lix Cache: every cache action is a command, a plain
 * object that flows unchanged from the SDK through a transport to an engine.
 * Results have the exact shape the HTTP batch endpoint sends on the wire.
 */

/** Any JSON value: what a key can hold. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object: what `merge` takes and merges into. */
export type JsonObject = { [key: string]: Json };

/** Read a key. `touch` (seconds) resets its TTL in the same step: sliding expiration. */
export interface GetCommand {
  op: 'get';
  key: string;
  /** New TTL in seconds, applied as the key is read. 0 removes the TTL. */
  touch?: number;
  /** Also answer the key's tags (for tools such as the dashboard). */
  withTags?: boolean;
}

/** Write a key. */
export interface SetCommand {
  op: 'set';
  key: string;
  value: Json;
  /** Seconds until the key expires; 0 or absent: never. */
  ttl?: number;
  /** Write only if the key is absent. */
  nx?: boolean;
  /** Write only if the key is present. */
  xx?: boolean;
  /** Tags for `scan({ tag })` and `invalidate(tag)`. Replaces the key's earlier tags. */
  tags?: string[];
}

/** Shallow-merge an object into the stored object, atomically, only if the key exists. */
export interface MergeCommand {
  op: 'merge';
  key: string;
  value: JsonObject;
  /** When given, also resets the TTL (seconds; 0 removes it). Absent: the TTL is kept. */
  ttl?: number;
}

/** Delete a key (absent keys are fine). */
export interface DeleteCommand {
  op: 'delete';
  key: string;
}

/** Whether a live key is there. */
export interface ExistsCommand {
  op: 'exists';
  key: string;
}

/** Add to (incr) or subtract from (decr) a number; an absent key starts at 0. */
export interface IncrCommand {
  op: 'incr' | 'decr';
  key: string;
  /** Default 1. */
  amount?: number;
  /** Seconds; applied only when this command creates the key. */
  ttl?: number;
}

/** Reset a key's TTL (seconds; 0 removes it). */
export interface ExpireCommand {
  op: 'expire';
  key: string;
  ttl: number;
}

/** List live keys by prefix and/or tag, a page at a time. */
export interface ScanCommand {
  op: 'scan';
  prefix?: string;
  tag?: string;
  /** Opaque cursor from the previous page; absent or null for the first page. */
  cursor?: string | null;
  /** Page size, default 100. */
  limit?: number;
  /** Return keys without values. */
  keysOnly?: boolean;
}

/** Delete every live key that carries the tag. */
export interface InvalidateCommand {
  op: 'invalidate';
  tag: string;
}

/** Delete everything. */
export interface ClearCommand {
  op: 'clear';
}

/** Any command, told apart by `op`. */
export type Command =
  | GetCommand
  | SetCommand
  | MergeCommand
  | DeleteCommand
  | ExistsCommand
  | IncrCommand
  | ExpireCommand
  | ScanCommand
  | InvalidateCommand
  | ClearCommand;

/** The name of a command. */
export type Op = Command['op'];

/** Every op, in the order error messages list them. */
export const OPS: readonly Op[] = [
  'get',
  'set',
  'merge',
  'delete',
  'exists',
  'incr',
  'decr',
  'expire',
  'scan',
  'invalidate',
  'clear',
];

/** A command that failed on its own; the other commands of its batch still ran. */
export interface ErrorResult {
  op: string;
  key?: string;
  error: { code: string; message: string };
}

/** The result of a `get`. */
export interface GetResult {
  op: 'get';
  key: string;
  /** null when the key is missing. */
  value: Json;
  /** Remaining seconds after this read (null: no expiry, or the key is missing). */
  ttl: number | null;
  /** Whether a live key was there: tells a stored null from a missing key (HTTP GET answers 404 only when false). */
  found: boolean;
  /** The key's tags, when the command asked for them (`withTags`) and the key was found. */
  tags?: string[];
}

/** The result of a `set`. */
export interface SetResult {
  op: 'set';
  key: string;
  success: true;
  /** false when `nx`/`xx` kept the write from happening. */
  written: boolean;
}

/** The result of a `merge`. */
export interface MergeResult {
  op: 'merge';
  key: string;
  /** false when the key is absent (nothing was written). */
  success: boolean;
}

/** The result of a `delete`. */
export interface DeleteResult {
  op: 'delete';
  key: string;
  success: true;
  /** Whether a live key was there to delete. */
  deleted: boolean;
}

/** The result of an `exists`. */
export interface ExistsResult {
  op: 'exists';
  key: string;
  exists: boolean;
}

/** The result of an `incr` or `decr`: the new number. */
export interface IncrResult {
  op: 'incr' | 'decr';
  key: string;
  value: number;
}

/** The result of an `expire`. */
export interface ExpireResult {
  op: 'expire';
  key: string;
  /** false when the key is absent. */
  success: boolean;
}

/** One key of a scan page, with its value. */
export interface ScanItem {
  key: string;
  value: Json;
  /** Remaining seconds, or null for no expiry. */
  ttl: number | null;
}

/** One page of a `scan`. */
export interface ScanResult {
  op: 'scan';
  /** Present unless `keysOnly`. */
  items?: ScanItem[];
  /** Present with `keysOnly`. */
  keys?: string[];
  /** How many keys this page holds. */
  count: number;
  /** Pass back for the next page; null when the scan is complete. */
  cursor: string | null;
}

/** The result of an `invalidate`: how many keys it deleted. */
export interface InvalidateResult {
  op: 'invalidate';
  tag: string;
  deleted: number;
}

/** The result of a `clear`: how many keys it deleted. */
export interface ClearResult {
  op: 'clear';
  success: true;
  cleared: number;
}

/** The result for each command type, for typed batches. */
export interface ResultByOp {
  get: GetResult;
  set: SetResult;
  merge: MergeResult;
  delete: DeleteResult;
  exists: ExistsResult;
  incr: IncrResult;
  decr: IncrResult;
  expire: ExpireResult;
  scan: ScanResult;
  invalidate: InvalidateResult;
  clear: ClearResult;
}

/** The result of any command that succeeded. */
export type SuccessResult = ResultByOp[Op];
/** What `execute` returns per command: its result, or its error. */
export type Result = SuccessResult | ErrorResult;

export function isErrorResult(result: Result): result is ErrorResult {
  return (result as ErrorResult).error !== undefined;
}
