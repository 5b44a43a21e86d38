import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header that carries a request's id, in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What an incoming id may look like: short, no spaces or control characters (it goes into logs and a header). */
const SAFE_ID = /^[\w.:/+=@-]{1,128}$/;

/**
 * A fastify `genReqId`: keep the caller's `x-request-id` when it is safe,
 * otherwise make one from a per-process random prefix and a counter
 * (unique without a random draw per request).
 */
export function createRequestIdGenerator(): (request: IncomingMessage) => string {
  const prefix = randomBytes(6).toString('base64url');
  let counter = 0;
  return (request) => {
    const incoming = request.headers[REQUEST_ID_HEADER];
    if (typeof incoming === 'string' && SAFE_ID.test(incoming)) return incoming;
    return `${prefix}-${(++counter).toString(36)}`;
  };
}
