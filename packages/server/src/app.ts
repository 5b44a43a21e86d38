import { createServer } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from 'lix-cache-core';
import { describe, ERRORS, lixError, type LixError } from 'lix-cache-core';
import sjson from 'secure-json-parse';
import { createKeyCheck } from './auth';
import { registerDashboard } from './dashboard';
import { createCors } from './cors';
import { ChangeEvents } from './change-events';
import { createFastGet } from './fast-get';
import { createHostCheck } from './host-check';
import { guardConnections } from './connection-limits';
import { drainRejectedBody } from './drain-rejected-body';
import type { ServerConfig, ServerOptions } from './config';
import { resolveConfig } from './config';
import { jsonError, toLixError } from './http-errors';
import { ServerMetrics } from './metrics';
import { createRequestIdGenerator, REQUEST_ID_HEADER } from './request-id';
import { requestLogOptions } from './request-logs';
import { inPipelineOrder } from './pipeline-order';
import { createServerInfo } from './server-info';
import { JSON_TYPE, registerRoutes } from './routes';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answered without auth or Host check (only `/health`). */
    public?: boolean;
    /** Answered without auth, still behind the Host check: the dashboard's pages, which hold no data. */
    assets?: boolean;
  }
}

// fastify's default, which a server of our own (serverFactory) must set itself.
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

// The Part 1 401 shape, serialized once; `code` is an addition for clients that switch on codes.
const UNAUTHORIZED = JSON.stringify({ error: 'Unauthorized', message: ERRORS.unauthorized.message(), code: 'unauthorized' });

/**
 * Build the HTTP app over an engine. The app owns the engine: `app.close()`
 * closes it. Call `app.listen({ port, host })` to serve, or `app.inject()` to test.
 */
export async function buildApp(engine: Engine, options: ServerConfig | ServerOptions = {}): Promise<FastifyInstance> {
  const config = resolveConfig(options);
  const metrics = new ServerMetrics(engine);
  const requestId = createRequestIdGenerator();
  const authorized = config.authEnabled ? createKeyCheck(config.apiKeys) : undefined;
  const hostAllowed = createHostCheck(config);
  // Per-request debug logs come from fastify, so at debug and trace every request goes through it.
  const fastGet = config.logLevel === 'debug' || config.logLevel === 'trace' ? undefined : createFastGet({ engine, limits: config.limits, metrics, requestId, authorized, hostAllowed });
  const app = Fastify({
    ...requestLogOptions(config.logLevel, config.logFormat),
    genReqId: requestId,
    bodyLimit: config.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true },
    serverFactory: (handler) => {
      const server = createServer(inPipelineOrder(fastGet ? (request, response) => fastGet(request, response, () => handler(request, response)) || handler(request, response) : handler));
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
  });

  const connections = guardConnections(app.server, config, app.log);
  const events = new ChangeEvents({ engine, heartbeatMs: config.eventsHeartbeatMs, maxTrackedKeys: config.maxTrackedKeys, log: app.log });
  metrics.events = events;

  // JSON only: a text/plain body is refused with a clear error rather than read as a string.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    // An empty body is fine (e.g. POST /cache/clear with a JSON content type): each route says what it needs.
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, sjson.parse(body as string, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      done(jsonError(error), undefined);
    }
  });

  /** Answer a request refused before any work (Host or Origin) with its registered error. */
  const refuse = (request: FastifyRequest, reply: FastifyReply, error: LixError) => {
    metrics.countError(error.code);
    request.log.warn({ reqId: request.id, code: error.code, url: request.url, host: request.headers.host, origin: request.headers.origin }, 'request refused');
    reply.code(error.status).type(JSON_TYPE).send(JSON.stringify({ error: error.message, code: error.code }));
  };
  const cors = createCors(config.corsOrigins, (request, reply, origin) => refuse(request, reply, lixError('origin_not_allowed', describe(origin))));
  // One hook for request id, Host check, CORS and auth: each hook costs a step on every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    // /health stays open to every Host: probes use the pod's address, and it tells nothing.
    if (hostAllowed && !hostAllowed(request.headers.host) && !request.routeOptions.config.public) {
      return refuse(request, reply, lixError('host_not_allowed', describe(request.headers.host)));
    }
    if (cors(request, reply)) return;
    if (authorized && !request.routeOptions.config.public && !request.routeOptions.config.assets && request.method !== 'OPTIONS' && !authorized(request.headers.authorization)) {
      metrics.countError('unauthorized');
      request.log.warn({ reqId: request.id, url: request.url }, 'unauthorized request');
      reply.code(401).type(JSON_TYPE).send(UNAUTHORIZED);
      return;
    }
    done();
  });


  app.setErrorHandler((error, request, reply) => {
    const lix = toLixError(error, config.maxBodyBytes, request.headers['content-type']);
    if (lix.code === 'body_too_large') drainRejectedBody(request.raw, reply);
    metrics.countError(lix.code);
    metrics.observe(reply.elapsedTime / 1000);
    if (lix.status >= 500) request.log.error({ reqId: request.id, url: request.url, err: error }, lix.message);
    else request.log.warn({ reqId: request.id, code: lix.code, url: request.url }, lix.message);
    return reply.code(lix.status).type(JSON_TYPE).send({ error: lix.message, code: lix.code });
  });

  const methodsByPath = new Map<string, string[]>();
  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD' || route.method === 'OPTIONS' || route.url === '*') return;
    const methods = methodsByPath.get(route.url) ?? [];
    methods.push(...[route.method].flat());
    methodsByPath.set(route.url, methods);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!.replace(/\/$/, '');
    const methods = methodsByPath.get(path);
    const message = methods
      ? `${path} does not take ${request.method}; use ${methods.join(' or ')} ${path}.`
      : !config.dashboard && (path === '' || path.startsWith('/dashboard'))
        ? `The dashboard is off on this server (it is on by default only on a loopback host). Turn it on with --dashboard true or LIX_DASHBOARD=true; it is behind the same API keys as the API.`
        : `No endpoint ${request.method} ${path}. The API lives under /cache/ (e.g. GET /cache/get?key=K, POST /cache/set); see also /health and /metrics.`;
    metrics.countError('not_found');
    metrics.observe(reply.elapsedTime / 1000);
    return reply.code(404).type(JSON_TYPE).send({ error: message, code: 'not_found' });
  });

  if (config.dashboard) await registerDashboard(app);
  registerRoutes(app, engine, config.limits, metrics, events, createServerInfo(config, engine, metrics, events), authorized);

  // Neither event streams nor connections that never sent a request end by themselves: end them, or closing would wait for them.
  app.addHook('preClose', (done) => {
    events.close();
    connections.closeUnused();
    done();
  });
  app.addHook('onClose', async () => {
    await engine.close();
  });
  return app;
}
