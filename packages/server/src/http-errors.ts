import type { ErrorCode, ErrorResult } from 'lix-cache-core';
import { ERRORS, LixError, lixError, prototypePropertyError } from 'lix-cache-core';

/**
 * Turn anything a request can throw (a LixError from validation or an engine,
 * or a fastify error about the body) into a registered LixError, so every
 * failure answers `{"error": message, "code": code}` with the registry's status.
 */
export function toLixError(error: unknown, maxBodyBytes: number, contentType?: string): LixError {
  if (error instanceof LixError) return error;
  const { code, message, statusCode } = (error ?? {}) as { code?: string; message?: string; statusCode?: number };
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return lixError('body_too_large', maxBodyBytes);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new LixError(
        'invalid_body',
        `The request body has Content-Type ${contentType ? `"${contentType}"` : '(none)'}, which this server does not read. Send the body as JSON with the header Content-Type: application/json.`,
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new LixError('invalid_body', 'The Content-Length header does not match the body that was sent. Send the exact byte length of the body.');
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new LixError('invalid_body', `${message ?? 'Bad request'}.`);
  }
  return lixError('internal', message ?? String(error));
}

/** The LixError a single-op endpoint raises for an engine's per-command error. */
export function fromErrorResult(result: ErrorResult): LixError {
  const code = (Object.hasOwn(ERRORS, result.error.code) ? result.error.code : 'internal') as ErrorCode;
  return new LixError(code, result.error.message);
}

/** The per-command result of a batch command that failed validation. */
export function toErrorResult(input: unknown, error: LixError): ErrorResult {
  const fields = (typeof input === 'object' && input !== null ? input : {}) as { op?: unknown; key?: unknown };
  const result: ErrorResult = { op: typeof fields.op === 'string' ? fields.op : String(fields.op ?? ''), error: { code: error.code, message: error.message } };
  if (typeof fields.key === 'string') result.key = fields.key;
  return result;
}

/** A body parse failure, with the parser's own detail. */
export function jsonError(error: unknown): LixError {
  const message = error instanceof Error ? error.message : String(error);
  if (/prototype property/.test(message)) {
    return prototypePropertyError(); // the same code and message every SDK transport gives
  }
  return lixError('invalid_json', message);
}
