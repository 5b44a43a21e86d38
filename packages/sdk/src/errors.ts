import { LixError, type ErrorResult } from 'lix-cache-core';

/**
 * Errors the SDK throws. Every one is a `LixCacheError` with a `code` to switch
 * on, and a message that says what happened and what to do about it.
 */

/** A problem found by a schema or by command validation: what is wrong, and where. */
export interface LixIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The base class of every error the SDK throws; switch on `code`. */
export class LixCacheError extends Error {
  override name = 'LixCacheError';

  constructor(
    /** A stable code: one of core's registered codes (`non_numeric`, `invalid_key`, …) or an SDK one (`connection_failed`, `timeout`, `closed`, `invalid_config`, `invalid_response`, `response_too_large`, …). */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server could not be reached (refused, reset, DNS failure). */
export class LixConnectionError extends LixCacheError {
  override name = 'LixConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('connection_failed', message, options);
  }
}

/** No answer within `timeout` ms. */
export class LixTimeoutError extends LixCacheError {
  override name = 'LixTimeoutError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('timeout', message, options);
  }
}

/** The server refused the API key (HTTP 401). */
export class LixAuthError extends LixCacheError {
  override name = 'LixAuthError';
  constructor(message: string) {
    super('unauthorized', message);
  }
}

/** The stored value has the wrong type for the operation: `non_numeric` (incr/decr), `not_object` (merge). */
export class LixTypeError extends LixCacheError {
  override name = 'LixTypeError';
}

/** Invalid data: a schema rejected a value (on write or read), or a command's input is invalid. */
export class LixValidationError extends LixCacheError {
  override name = 'LixValidationError';
  constructor(
    code: string,
    message: string,
    /** What is wrong, one entry per problem (Standard Schema issue shape). */
    readonly issues: readonly LixIssue[],
  ) {
    super(code, message);
  }
}

/**
 * The server (or the store behind it) failed: HTTP 5xx, `internal`, `unavailable`, `persistence_failed`,
 * `missing_dependency` (an optional peer such as ioredis is not installed); or it
 * answered something this SDK cannot read (`invalid_response`: a malformed result, a scan
 * cursor it had already returned, a body that is not JSON).
 */
export class LixServerError extends LixCacheError {
  override name = 'LixServerError';
  constructor(
    code: string,
    message: string,
    /** HTTP status, when the error came over HTTP. */
    readonly status?: number,
  ) {
    super(code, message);
  }
}

/**
 * An answer too large to read: a response over the client's `maxResponseBytes` (the
 * whole request fails, nothing of it was read), or a read the server left out of a batch
 * because the batch's answer would have passed its LIX_MAX_RESPONSE_BYTES budget (that
 * read alone is too large; reads that merely came late in a batch are re-sent for you).
 */
export class LixResponseTooLargeError extends LixCacheError {
  override name = 'LixResponseTooLargeError';
  constructor(
    message: string,
    /** HTTP status, when the server refused the whole request. */
    readonly status?: number,
  ) {
    super('response_too_large', message);
  }
}

/** The URL answered 404 for a Lix Cache endpoint, or a command reported `not_found`. */
export class LixNotFoundError extends LixCacheError {
  override name = 'LixNotFoundError';
}

const TYPE_CODES = new Set(['non_numeric', 'not_object']);
const SERVER_CODES = new Set(['internal', 'unavailable', 'persistence_failed', 'missing_dependency']);

/** The typed error for a registered error code, as a per-command result or an HTTP error body carries it. */
export function errorFromCode(code: string, message: string, status?: number): LixCacheError {
  if (TYPE_CODES.has(code)) return new LixTypeError(code, message);
  if (SERVER_CODES.has(code)) return new LixServerError(code, message, status);
  if (code === 'unauthorized') return new LixAuthError(message);
  if (code === 'not_found') return new LixNotFoundError(code, message);
  if (code === 'response_too_large') return new LixResponseTooLargeError(message, status);
  return new LixValidationError(code, message, [{ message }]);
}

/** The typed error for a command that failed on its own. */
export function errorFromResult(result: ErrorResult): LixCacheError {
  return errorFromCode(result.error.code, result.error.message);
}

/** Core's LixError (thrown by validation and engines) as the SDK's typed error; anything else unchanged. */
export function fromCoreError(error: unknown): unknown {
  return error instanceof LixError ? errorFromCode(error.code, error.message, error.status) : error;
}
