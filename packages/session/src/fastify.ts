/**
 * lix-cache-session/fastify: the Fastify plugin (`lixSession`), its `csrfProtection()`
 * preHandler hook and `sessionErrorHandler()`, and the typing of `request.session`,
 * `request.login()` and the rest.
 *
 * An entry of its own so that the `FastifyRequest` typing reaches only apps that use this
 * plugin: a program that holds @fastify/session's typing of `request.session` as well can
 * still import the main entry's `SessionStore`.
 * @module lix-cache-session/fastify
 */
export { lixSession, sessionErrorHandler } from './fastify-plugin';
export type { FastifyErrorHandler, LixSessionOptions } from './fastify-plugin';
export { csrfProtection } from './fastify-csrf';
export type { CsrfOptions } from './csrf';
export { isCacheUnavailable, UNAVAILABLE_BODY } from './responses';
export type { GuestOptions } from './handler-options';
export type { GuestSession, LoginOptions } from './session-handler';
export type { SessionCookieOptions } from './cookies';
export type { Register, RegisteredSessionData } from './fastify-types';
