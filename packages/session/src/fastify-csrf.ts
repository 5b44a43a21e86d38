import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { createCsrfCheck, type CsrfOptions } from './csrf';
import { requestSessionOf } from './fastify-plugin';

/**
 * CSRF protection bound to the session, as a Fastify `preHandler` hook (it runs after the
 * body is parsed, so a form's field counts). Unsafe requests (POST, PUT, PATCH, DELETE, ...)
 * that carry a session or a saved guest session must send its `csrfToken` in the
 * `x-csrf-token` header or a `csrfToken` body field; it is compared in constant time, and a
 * missing or wrong token gets 403 JSON. Safe methods pass, and so do requests without a
 * session, such as the login itself (nothing to forge).
 *
 * ```ts
 * fastify.addHook('preHandler', csrfProtection());                             // every route of this context
 * fastify.post('/api/transfer', { preHandler: csrfProtection() }, transfer);   // one route
 * ```
 */
export function csrfProtection(options: CsrfOptions = {}): preHandlerAsyncHookHandler {
  const csrf = createCsrfCheck(options);
  return async function lixCsrfCheck(request: FastifyRequest, reply: FastifyReply) {
    if (!csrf.needsToken(request.method)) return;
    const session = requestSessionOf(request, 'csrfProtection()');
    const fromHeader = request.headers[csrf.header];
    const body = request.body;
    const sent = typeof fromHeader === 'string' ? fromHeader : typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[csrf.field] : undefined;
    const failure = csrf.check(session, request.method, sent);
    // An async hook that answers returns the reply, so Fastify stops there.
    if (failure) return reply.code(403).send(failure);
  };
}
