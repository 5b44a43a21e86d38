import type { IncomingMessage, ServerResponse } from 'node:http';
import { isErrorResult, validateKey, type Engine, type GetResult, type Limits } from 'lix-cache-core';
import type { ServerMetrics } from './metrics';
import { REQUEST_ID_HEADER } from './request-id';
import { getBody, JSON_TYPE } from './routes';

export interface FastGetOptions {
  engine: Engine;
  limits: Limits;
  metrics: ServerMetrics;
  /** The app's request id generator (fastify's genReqId), so both lanes name requests alike. */
  requestId: (request: IncomingMessage) => string;
  /** The API key check when auth is on. */
  authorized: ((authorization: string | undefined) => boolean) | undefined;
  /** The Host check when auth is off (see host-check.ts); a refused Host goes to fastify, which answers 403. */
  hostAllowed?: ((host: string | undefined) => boolean) | undefined;
}

const PREFIX = '/cache/get?key=';

/**
 * The hot read, `GET /cache/get?key=K` with no other parameter and no Origin
 * header, answered on node:http before fastify routes it. bench/ measured
 * fastify's per-request machinery at about a quarter of a cache GET's CPU; this
 * lane does the same work (auth, Host check, request id, metrics, the route's
 * exact body) without it. Anything else (an Origin header, a refused Host or
 * key), and any failure, is handed to fastify, which answers it the usual way;
 * the lane writes nothing before it knows it answers.
 *
 * Returns whether it took the request.
 */
export function createFastGet({ engine, limits, metrics, requestId, authorized, hostAllowed }: FastGetOptions) {
  return function fastGet(request: IncomingMessage, response: ServerResponse, fallback: () => void): boolean {
    const url = request.url!;
    if (request.method !== 'GET' || !url.startsWith(PREFIX) || url.includes('&', PREFIX.length) || request.headers.origin !== undefined) return false;
    if (authorized && !authorized(request.headers.authorization)) return false;
    if (hostAllowed && !hostAllowed(request.headers.host)) return false;
    let key = url.slice(PREFIX.length);
    try {
      // The decoding fastify's query parser applies ('+' is a space, then percent-decoding), only when needed.
      if (key.includes('%') || key.includes('+')) key = decodeURIComponent(key.replaceAll('+', ' '));
      validateKey(key, limits);
    } catch {
      return false;
    }
    const started = performance.now();
    engine.execute([{ op: 'get', key }]).then((results) => {
      const result = results[0]!;
      if (isErrorResult(result)) return fallback();
      metrics.countOp('get');
      const found = (result as GetResult).found;
      const body = getBody(result as GetResult);
      response.writeHead(found ? 200 : 404, {
        'content-type': JSON_TYPE,
        'content-length': Buffer.byteLength(body),
        [REQUEST_ID_HEADER]: requestId(request),
      });
      response.end(body);
      metrics.observe((performance.now() - started) / 1000);
    }, fallback);
    return true;
  };
}
