import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER } from './request-id';

const ALLOW_METHODS = 'GET, HEAD, POST, DELETE';
const ALLOW_HEADERS = 'Authorization, Content-Type, X-Request-Id';

/**
 * CORS for LIX_CORS_ORIGINS (`*` or a list of origins). Hand-written rather than
 * @fastify/cors because that plugin copies its options and builds closures on every
 * request, a measurable share of a cache GET; here a request without an Origin
 * header (every non-browser client) costs one property read.
 *
 * Returns a function for the onRequest hook; it answers a preflight itself and then
 * returns true.
 */
export function createCors(origins: readonly string[]): (request: FastifyRequest, reply: FastifyReply) => boolean {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return false;
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (anyOrigin) reply.header('access-control-allow-origin', '*');
    else {
      reply.header('vary', 'Origin');
      // A disallowed origin gets no allow-origin header, so the browser refuses the response.
      if (!allowed.has(origin)) return preflight && (reply.code(204).send(), true);
      reply.header('access-control-allow-origin', origin);
    }
    if (!preflight) {
      reply.header('access-control-expose-headers', REQUEST_ID_HEADER);
      return false;
    }
    const requested = request.headers['access-control-request-headers'];
    if (requested) reply.header('vary', anyOrigin ? 'Access-Control-Request-Headers' : 'Origin, Access-Control-Request-Headers');
    reply
      .code(204)
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', requested || ALLOW_HEADERS)
      .header('access-control-max-age', '600')
      .send();
    return true;
  };
}
