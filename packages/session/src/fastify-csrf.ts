import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { requestSessionOf } from './fastify-plugin';

/** Options of `csrfProtection()` for Fastify. */
export interface FastifyCsrfOptions {
  /** Request header that carries the token (default `'x-csrf-token'`). */
  header?: string;
  /** Body field that carries the token, for HTML forms (default `'csrfToken'`). */
  field?: string;
}

function checkName(value: unknown, what: string, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`csrfProtection: ${what} must be a non-empty string such as ${example}; got ${String(value)}.`);
  return value;
}

/**
 * CSRF protection bound to the session, as a Fastify `preHandler` hook (it runs after the
 * body is parsed). Unsafe requests (POST, PUT, PATCH, DELETE, ...) that carry a session or
 * a guest session must send its `csrfToken` in the `x-csrf-token` header or a `csrfToken`
 * body field; it is compared in constant time, and a missing or wrong token gets 403 JSON.
 * Safe methods pass, and so do requests without a session, such as the login itself.
 *
 * ```ts
 * fastify.addHook('preHandler', csrfProtection());            // every route of this context
 * fastify.post('/api/transfer', { preHandler: csrfProtection() }, handler); // one route
 * ```
 */
export function csrfProtection(options: FastifyCsrfOptions = {}): preHandlerAsyncHookHandler {
  if (typeof options !== 'object' || options === null) throw new TypeError('csrfProtection(options) takes an object such as { header: "x-csrf-token", field: "csrfToken" }, or nothing.');
  const header = (checkName(options.header, 'header', '"x-csrf-token"') ?? 'x-csrf-token').toLowerCase();
  const field = checkName(options.field, 'field', '"csrfToken"') ?? 'csrfToken';

  return async function lixCsrfCheck(request: FastifyRequest, reply: FastifyReply) {
    const session = requestSessionOf(request, 'csrfProtection()');
    const fromHeader = request.headers[header];
    const fromBody = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>)[field] : undefined;
    const failure = session.checkCsrf(request.method, typeof fromHeader === 'string' ? fromHeader : fromBody);
    if (failure) return reply.code(403).send(failure);
  };
}
