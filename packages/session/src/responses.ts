import { LixAuthError, LixConnectionError, LixServerError, LixTimeoutError } from 'lix-cache-sdk';
import { SessionValidationError } from './errors';

/** An answer an adapter sends instead of the route's own: status, headers and a JSON body. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: string; message: string };
}

/** The JSON body of a 503 when the session store cannot be reached. */
export const UNAVAILABLE_BODY = Object.freeze({
  error: 'Session store unavailable',
  message: 'Sessions cannot be checked right now because the session store (Lix Cache) is unreachable. Please try again shortly.',
});

const UNAVAILABLE: ErrorResponse = Object.freeze({ status: 503, headers: Object.freeze({ 'retry-after': '5' }), body: UNAVAILABLE_BODY });

/** Whether `error` means the cache cannot serve (down, timing out, failing, refusing our key). */
export function isCacheUnavailable(error: unknown): boolean {
  return error instanceof LixConnectionError || error instanceof LixTimeoutError || error instanceof LixServerError || error instanceof LixAuthError;
}

/** The 503 to send when the cache cannot be reached (never a signed-out answer). */
export function unavailableResponse(): ErrorResponse {
  return UNAVAILABLE;
}

/** The answer to a request whose session change could not be saved. */
export function saveFailedResponse(error: unknown): ErrorResponse {
  if (isCacheUnavailable(error)) return UNAVAILABLE;
  const message = error instanceof SessionValidationError ? 'The session data does not match its schema.' : 'The session could not be saved.';
  return { status: 500, headers: {}, body: { error: 'Session not saved', message } };
}
