import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { LixSessionOptions as SessionOptions } from './handler-options';
import type { SessionData } from './options';
import { isCacheUnavailable, unavailableResponse, type ErrorResponse } from './responses';
import { SessionHandler, type LoginOptions, type RequestSession } from './session-handler';
import type { Session, SessionInput } from './session-store';

/**
 * Options of the `lixSession` Fastify plugin. The client address for IP binding and the
 * device list is `request.ip`, so it follows Fastify's own `trustProxy` server option.
 */
export interface LixSessionOptions<D extends object = SessionData, N extends string = string> extends Omit<SessionOptions<D, N>, 'onSaveError' | 'onLoadError'> {
  /** Called with errors that kept a session change from being saved (default: `console.error`). */
  onSaveError?: (error: unknown, request: FastifyRequest) => void;
  /** Called with the error when the cache could not be reached to load the session, before the 503 (default: none). */
  onLoadError?: (error: unknown, request: FastifyRequest) => void;
}

/** Where the plugin keeps each request's `RequestSession` (a request decorator, null between requests). */
export const REQUEST_SESSION = Symbol('lix-cache-session.request');

type WithSession = FastifyRequest & { [REQUEST_SESSION]: RequestSession<object> | null };

/** The request's session state, or a clear error when the plugin does not cover this route. */
export function requestSessionOf(request: FastifyRequest, what: string): RequestSession<object> {
  const state = (request as WithSession)[REQUEST_SESSION];
  if (!state) {
    throw new Error(`${what} needs the lixSession plugin registered in this route's context: fastify.register(lixSession, { store }) before the routes (in the same plugin or a parent).`);
  }
  return state;
}

function sendError(reply: FastifyReply, response: ErrorResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

async function login(this: FastifyRequest, user: SessionInput<object> & { userId: string }, options?: LoginOptions): Promise<Session<object>> {
  return requestSessionOf(this, 'request.login()').login(user, options);
}

async function logout(this: FastifyRequest): Promise<void> {
  return requestSessionOf(this, 'request.logout()').logout();
}

async function logoutAll(this: FastifyRequest): Promise<number> {
  return requestSessionOf(this, 'request.logoutAll()').logoutAll();
}

/** A payload Fastify would stream: it must be closed when an error body replaces it. */
function destroyStream(payload: unknown): void {
  const stream = payload as { pipe?: unknown; destroy?: (error?: Error) => void } | null;
  if (stream && typeof stream.pipe === 'function' && typeof stream.destroy === 'function') stream.destroy();
}

async function lixSessionPlugin(fastify: FastifyInstance, options: LixSessionOptions<object>): Promise<void> {
  // Checks every option once, with a TypeError that says what is wrong (fails `ready()`).
  const handler = new SessionHandler(options as SessionOptions<object>);

  if (fastify.hasRequestDecorator('session') || fastify.hasRequestDecorator(REQUEST_SESSION)) {
    throw new Error(
      'lixSession: request.session is already declared in this context: lixSession is registered here or in a parent context already, or another session plugin (such as @fastify/session) is. Register lixSession once per encapsulated context.',
    );
  }
  // Per Fastify's decorator rules: null (set per request) and getters, no object shared by requests.
  fastify.decorateRequest(REQUEST_SESSION, null);
  fastify.decorateRequest('session', {
    getter(this: FastifyRequest) {
      return (this as WithSession)[REQUEST_SESSION]?.session as FastifyRequest['session'];
    },
  });
  fastify.decorateRequest('sessionId', {
    getter(this: FastifyRequest) {
      return (this as WithSession)[REQUEST_SESSION]?.id;
    },
  });
  fastify.decorateRequest('guest', {
    getter(this: FastifyRequest) {
      return (this as WithSession)[REQUEST_SESSION]?.guest as FastifyRequest['guest'];
    },
  });
  fastify.decorateRequest('login', login as unknown as FastifyRequest['login']);
  fastify.decorateRequest('logout', logout);
  fastify.decorateRequest('logoutAll', logoutAll);

  fastify.addHook('onRequest', async (request, reply) => {
    const session = handler.begin(request.headers.cookie, { ip: request.ip, userAgent: request.headers['user-agent'] }, request);
    try {
      await session.load();
    } catch (error) {
      // Never serve a request that carries a session as a signed-out one: 503 until the cache is back.
      if (!isCacheUnavailable(error)) throw error;
      handler.onLoadError?.(error, request);
      return sendError(reply, unavailableResponse());
    }
    (request as WithSession)[REQUEST_SESSION] = session;
  });

  // Write the request's changes before the response goes out, so that the next request sees them.
  fastify.addHook('onSend', async (request, reply, payload) => {
    const session = (request as WithSession)[REQUEST_SESSION];
    if (!session) return payload;
    let result = payload;
    const failure = await session.save();
    if (failure) {
      destroyStream(payload);
      reply.removeHeader('etag');
      reply.code(failure.status).headers(failure.headers).type('application/json; charset=utf-8');
      result = JSON.stringify(failure.body);
    }
    for (const cookie of session.takeCookies()) reply.header('set-cookie', cookie.line);
    return result;
  });
}

/**
 * The Fastify plugin: sessions from `store`, in a secure cookie.
 *
 * Register it once per encapsulated context (it is `fastify-plugin`-wrapped, so its
 * decorators and hooks reach the routes next to the `register` call). It reads the session
 * cookie and gives every request `request.session` (typed, see `Register`),
 * `request.sessionId` and, with `guest` on, `request.guest`; signs remembered users in
 * again; and adds `request.login(user, { rememberMe, device })`, `request.logout()` and
 * `request.logoutAll()`. Changes to `request.session` (or `request.guest`) fields are
 * written field by field before the response is sent. When the cache is unreachable, a
 * request that carries a session cookie gets a 503 JSON answer (never one as a signed-out user).
 *
 * ```ts
 * await fastify.register(lixSession, { store: sessions, cookie: { secure: process.env.NODE_ENV === 'production' } });
 * fastify.addHook('preHandler', csrfProtection());
 * fastify.setErrorHandler(sessionErrorHandler());
 * ```
 */
export const lixSession = fp(lixSessionPlugin, { fastify: '5.x', name: 'lix-cache-session' }) as FastifyPluginAsync<LixSessionOptions<any>>;

/** A Fastify error handler, as `fastify.setErrorHandler` takes it. */
export type FastifyErrorHandler = (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * A Fastify error handler: a route that needed the cache while it was unreachable
 * (`request.login`, `store.list`, ...) answers 503 with a clear JSON message and
 * Retry-After instead of a 500. Other errors go to `next` when given, else on to the
 * parent context's error handler (Fastify's default one at the root).
 *
 * ```ts
 * fastify.setErrorHandler(sessionErrorHandler());
 * fastify.setErrorHandler(sessionErrorHandler((error, request, reply) => reply.code(500).send({ error: 'Internal error' })));
 * ```
 */
export function sessionErrorHandler(next?: FastifyErrorHandler): FastifyErrorHandler {
  if (next !== undefined && typeof next !== 'function') {
    throw new TypeError('sessionErrorHandler(next) takes an error handler function (error, request, reply) for the errors that are not about the session store, or nothing.');
  }
  return function lixSessionErrors(this: FastifyInstance, error, request, reply) {
    if (isCacheUnavailable(error) && !reply.sent) return sendError(reply, unavailableResponse());
    if (next) return next.call(this, error, request, reply);
    throw error;
  };
}
