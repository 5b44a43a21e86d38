import type { Result } from 'lix-cache-core';
import { LixServerError } from './errors';

/** Turns a command's raw result into what the caller's promise resolves to; throws to reject it. */
export type Decode<R> = (result: Result) => R;

/** The one result of a one-command batch, decoded. */
export function decodeOne<R>(results: readonly Result[], decode: Decode<R>): R {
  if (results.length !== 1) throw resultCountMismatch(1, results.length);
  return decode(results[0]!);
}

export function resultCountMismatch(sent: number, got: number): LixServerError {
  return new LixServerError('internal', `The server answered ${got} results for ${sent} commands. Check that the URL points at a Lix Cache server of a compatible version.`);
}
