import type { ErrorResult, GetResult, IncrResult, Result, ScanResult, SuccessResult } from 'lix-cache-core';
import { describe } from 'lix-cache-core';
import { errorFromResult, LixServerError } from './errors';
import type { Entry } from './options';
import type { ClearResult } from './original-types';

/** Turns a command's raw result into what the caller's promise resolves to; throws to reject it. */
export type Decode<R> = (result: Result) => R;

/** The one result of a one-command batch, decoded. */
export function decodeOne<R>(results: readonly Result[], decode: Decode<R>): R {
  if (results.length !== 1) throw resultCountMismatch(1, results.length);
  return decode(results[0]!);
}

export function resultCountMismatch(sent: number, got: number): LixServerError {
  return malformed(`${got} results for ${sent} commands`);
}

/**
 * The error for an answer this SDK cannot read. Typed (LixServerError, code
 * `invalid_response`) rather than the TypeError that reading it would throw.
 */
export function malformed(what: string): LixServerError {
  return new LixServerError(
    'invalid_response',
    `The server answered ${what}, which this lix-cache-sdk cannot read. Check that the "url" option points at a Lix Cache server, ` +
      'and that lix-cache-server and lix-cache-sdk are of the same release: a server of another version may answer in another shape.',
  );
}

/** An error result's `error` must carry a string code and message. */
function checkError(result: Result, error: unknown): void {
  if (typeof error !== 'object' || error === null || typeof (error as ErrorResult['error']).code !== 'string' || typeof (error as ErrorResult['error']).message !== 'string') {
    throw malformed(`an error result without a string "code" and "message": ${describe(result)}`);
  }
}

// The decoders below check each result's shape with a few typeof tests (this is the
// hot path: no schema library per result), so a malformed answer rejects with a typed error.

/** A result that is a success of `op`; an error result rejects with its typed error. */
function successOf(result: Result, op: string): SuccessResult {
  if (typeof result !== 'object' || result === null) throw malformed(`${describe(result)} as the result of a ${op}`);
  const error = (result as ErrorResult).error;
  if (error !== undefined) {
    checkError(result, error);
    throw errorFromResult(result as ErrorResult);
  }
  if (result.op !== op && !(op === 'incr' && result.op === 'decr')) throw malformed(`${describe(result)} as the result of a ${op}`);
  return result as SuccessResult;
}

function field(result: SuccessResult, name: string, type: string, optional = false): never {
  throw malformed(`a ${result.op} result whose "${name}" is not ${type}${optional ? ' (or absent)' : ''}: ${describe(result)}`);
}

/** batch(): any well-formed result, returned as is. */
export function raw(result: Result): Result {
  if (typeof result !== 'object' || result === null || typeof result.op !== 'string') throw malformed(`${describe(result)} as a command's result`);
  const error = (result as ErrorResult).error;
  if (error !== undefined) checkError(result, error);
  return result;
}

function getOf(result: Result): GetResult {
  const get = successOf(result, 'get') as GetResult;
  if (get.value === undefined) field(get, 'value', 'a JSON value');
  if (get.ttl !== undefined && get.ttl !== null && typeof get.ttl !== 'number') field(get, 'ttl', 'a number or null', true);
  if (get.found !== undefined && typeof get.found !== 'boolean') field(get, 'found', 'true or false', true);
  return get;
}

export const valueOf = (result: Result): unknown => getOf(result).value;

export function entryOf(result: Result): Entry<unknown> | null {
  const get = getOf(result);
  // `found` tells a stored null from a missing key; servers before it only send value.
  const found = get.found ?? get.value !== null;
  if (!found) return null;
  const entry: Entry<unknown> = { value: get.value, ttl: get.ttl ?? null };
  if (get.tags !== undefined) entry.tags = get.tags;
  return entry;
}

/** incr / decr: the new number. */
export function numberOf(result: Result): number {
  const incr = successOf(result, 'incr') as IncrResult;
  if (typeof incr.value !== 'number') field(incr, 'value', 'a number');
  return incr.value;
}

export function writtenOf(result: Result): boolean {
  const set = successOf(result, 'set') as Extract<Result, { op: 'set' }>;
  if (set.written !== undefined && typeof set.written !== 'boolean') field(set, 'written', 'true or false', true);
  return set.written ?? true;
}

function successFlag(op: 'merge' | 'expire'): Decode<boolean> {
  return (result) => {
    const done = successOf(result, op) as Extract<Result, { op: 'merge' | 'expire' }>;
    if (typeof done.success !== 'boolean') field(done, 'success', 'true or false');
    return done.success;
  };
}
export const mergedOf = successFlag('merge');
export const expiredOf = successFlag('expire');

export function deletedOf(result: Result): boolean {
  const del = successOf(result, 'delete') as Extract<Result, { op: 'delete' }>;
  if (del.deleted !== undefined && typeof del.deleted !== 'boolean') field(del, 'deleted', 'true or false', true);
  return del.deleted ?? true;
}

export function existsOf(result: Result): boolean {
  const exists = successOf(result, 'exists') as Extract<Result, { op: 'exists' }>;
  if (typeof exists.exists !== 'boolean') field(exists, 'exists', 'true or false');
  return exists.exists;
}

export function invalidatedOf(result: Result): number {
  const invalidated = successOf(result, 'invalidate') as Extract<Result, { op: 'invalidate' }>;
  if (typeof invalidated.deleted !== 'number') field(invalidated, 'deleted', 'a number');
  return invalidated.deleted;
}

export function clearedOf(result: Result): ClearResult {
  const cleared = successOf(result, 'clear') as Extract<Result, { op: 'clear' }>;
  if (typeof cleared.cleared !== 'number') field(cleared, 'cleared', 'a number');
  return { success: true, cleared: cleared.cleared };
}

/** A scan page: `keys` (strings) or `items` ({ key, value, ttl }), and its cursor. */
export function scanOf(result: Result): ScanResult {
  const page = successOf(result, 'scan') as ScanResult;
  if (page.cursor !== undefined && page.cursor !== null && typeof page.cursor !== 'string') field(page, 'cursor', 'a string or null', true);
  if (page.count !== undefined && typeof page.count !== 'number') field(page, 'count', 'a number', true);
  const { keys, items } = page;
  if (keys !== undefined) {
    if (!Array.isArray(keys)) field(page, 'keys', 'an array of keys', true);
    for (const key of keys) if (typeof key !== 'string') field(page, 'keys', 'an array of strings', true);
  }
  if (items !== undefined) {
    if (!Array.isArray(items)) field(page, 'items', 'an array of items', true);
    for (const item of items) {
      if (typeof item !== 'object' || item === null || typeof item.key !== 'string' || item.value === undefined || (item.ttl != null && typeof item.ttl !== 'number')) {
        field(page, 'items', 'an array of { key, value, ttl }', true);
      }
    }
  }
  if (keys === undefined && items === undefined) field(page, 'items', 'an array (nor "keys")');
  return page;
}
