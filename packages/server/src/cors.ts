import type { FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER } from './request-id';

const ALLOW_METHODS = 'GET, HEAD, POST, DELETE';
const ALLOW_HEADERS = 'Authorization, Content-Type, X-Request-Id, X-Lix-Client';

/**
 * CORS for LIX_CORS_ORIGINS (none by default, a list of origins, or `*`).
 * Hand-written rather than @fastify/cors because that plugin copies its options
 * and builds closures on every request, a measurable share of a cache GET; here
 * a request without an Origin header (every non-browser client) costs one
 * property read.
 *
 * A request from an origin that is neither listed nor the server's own (the
 * origin its Host header names) is refused with `refuse` before any work: a
 * browser sends a simple GET or POST without asking first, so leaving out the
 * allow-origin header would only hide the answer from the page, not stop the write.
 *
 * Returns a function for the onRequest hook; it answers a preflight or a refused
 * request itself and then returns true.
 */
export function createCors(
  origins: readonly string[],
  refuse: (request: FastifyRequest, reply: FastifyReply, origin: string) => void,
): (request: FastifyRequest, reply: FastifyReply) => boolean {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return false;
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (anyOrigin) reply.header('access-control-allow-origin', '*');
    else if (allowed.has(origin)) {
      reply.header('vary', 'Origin');
      reply.header('access-control-allow-origin', origin);
    } else if (!preflight && sameOrigin(origin, request.headers.host)) {
      // A page the server itself serves: not cross-origin, so no CORS headers are needed.
      return false;
    } else {
      reply.header('vary', 'Origin');
      refuse(request, reply, origin);
      return true;
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

/** Whether `origin` is `http://` or `https://` plus exactly the Host header (compared without building a string). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || !origin.endsWith(host)) return false;
  const scheme = origin.length - host.length;
  return (scheme === 7 && origin.startsWith('http://')) || (scheme === 8 && origin.startsWith('https://'));
}
