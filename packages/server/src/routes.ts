import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Command, Engine, ErrorResult, GetResult, Limits, Result, ResultByOp } from 'lix-cache-core';
import { DEFAULT_SCAN_LIMIT, describe, isErrorResult, LixError, lixError, parseCommand, validateKey } from 'lix-cache-core';
import { fromErrorResult, toErrorResult } from './http-errors';
import type { ServerMetrics } from './metrics';
import { parsePrefixes, type ChangeEvents } from './change-events';
import type { ServerInfo } from './server-info';

/** application/json with its charset, for bodies the routes build as strings. */
export const JSON_TYPE = 'application/json; charset=utf-8';

// Constant bodies, serialized once.
const SUCCESS = '{"success":true}';
const NO_SUCCESS = '{"success":false}';
const NOT_FOUND = '{"error":"not found"}';
const HEALTHY = '{"status":"healthy"}';
const EXISTS = '{"exists":true}';
const NOT_EXISTS = '{"exists":false}';

type Query = Record<string, string | string[] | undefined>;

/** The body of GET /cache/get, built by hand: one JSON.stringify of the value, no wrapper object. */
export function getBody(result: GetResult): string {
  if (!result.found) return NOT_FOUND;
  const tags = result.tags === undefined ? '' : `,"tags":${JSON.stringify(result.tags)}`;
  return `{"value":${JSON.stringify(result.value)},"ttl":${result.ttl}${tags}}`;
}

/**
 * Every endpoint of the HTTP API. Routes are thin: turn the request into
 * commands, validate them with core's `parseCommand`, run them on the engine
 * in one `execute` call, encode the result. Single-op endpoints are sugar
 * over the same path the batch endpoint uses.
 */
export function registerRoutes(
  app: FastifyInstance,
  engine: Engine,
  limits: Limits,
  metrics: ServerMetrics,
  events: ChangeEvents,
  /** The body of GET /cache/info. */
  info: () => Promise<ServerInfo>,
  /** The API key check when auth is on: /health tells the store's error only to a request carrying a key. */
  authorized?: (authorization: string | undefined) => boolean,
): void {
  /** Validate and run one command; an engine's per-command error is thrown as its LixError. */
  function run<C extends Command['op']>(input: Record<string, unknown> & { op: C }): Promise<ResultByOp[C]> {
    return runValid<C>(parseCommand(input, limits));
  }

  /** Run one command that is already valid. */
  async function runValid<C extends Command['op']>(command: Command): Promise<ResultByOp[C]> {
    metrics.countOp(command.op);
    const result = (await engine.execute([command]))[0]!;
    if (isErrorResult(result)) throw fromErrorResult(result);
    return result as ResultByOp[C];
  }

  /**
   * Write a JSON body (a prebuilt string or an object) and observe the request's latency:
   * the body is written synchronously, so the time is the whole request's. Done here
   * rather than in an onResponse hook, whose machinery costs more than a cache GET's logic.
   */
  function send(reply: FastifyReply, body: string | object, status = 200): FastifyReply {
    reply.code(status).type(JSON_TYPE).send(typeof body === 'string' ? body : JSON.stringify(body));
    metrics.observe(reply.elapsedTime / 1000);
    return reply;
  }

  const hiddenDetail = `see the server log for the cause${authorized ? ' (a request with an API key sees it here)' : ''}`;
  app.get('/health', { config: { public: true } }, async (request, reply) => {
    let health;
    try {
      health = await engine.health();
    } catch (error) {
      health = { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    if (health.ok) return send(reply, HEALTHY);
    const code = health.code ?? 'unavailable';
    const detail = health.message ?? 'the engine reports it is not healthy';
    request.log.warn({ reqId: request.id, code, detail }, 'health check: the store is not healthy');
    // /health answers without auth, and the engine's text names Redis hosts and ports or files: that stays in the log.
    const keyed = authorized?.(request.headers.authorization) === true;
    const error = code === 'unavailable' ? lixError('unavailable', keyed ? detail : hiddenDetail).message : keyed ? detail : `Writes are refused: the data directory cannot be written (${hiddenDetail}). Reads still work.`;
    return send(reply, { status: 'unhealthy', error, code }, 503);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.get('/cache/get', async (request, reply) => {
    const query = request.query as Query;
    // Without touch the command is just a valid key: validateKey alone, not parseCommand's generic field walk.
    const result = await (query.touch === undefined && query.with_tags === undefined
      ? runValid<'get'>({ op: 'get', key: validateKey(query.key, limits) })
      : run({ op: 'get', key: query.key, touch: query.touch === undefined ? undefined : numeric(query.touch), withTags: flag(query.with_tags, 'with_tags', 'invalid_command') }));
    return send(reply, getBody(result), result.found ? 200 : 404);
  });

  app.get('/cache/exists', async (request, reply) => {
    const result = await run({ op: 'exists', key: (request.query as Query).key });
    return send(reply, result.exists ? EXISTS : NOT_EXISTS);
  });

  app.post('/cache/set', async (request, reply) => {
    const body = bodyObject(request.body);
    const result = await run(withOp(body, 'set'));
    if (body.nx === true || body.xx === true) return send(reply, { success: true, written: result.written });
    return send(reply, SUCCESS);
  });

  app.delete('/cache/delete', async (request, reply) => {
    await run({ op: 'delete', key: (request.query as Query).key });
    return send(reply, SUCCESS);
  });

  for (const op of ['incr', 'decr'] as const) {
    app.post(`/cache/${op}`, async (request, reply) => {
      const result = await run(withOp(bodyObject(request.body), op));
      return send(reply, `{"value":${result.value}}`);
    });
  }

  app.post('/cache/expire', async (request, reply) => {
    const result = await run(withOp(bodyObject(request.body), 'expire'));
    return send(reply, result.success ? SUCCESS : NO_SUCCESS);
  });

  app.post('/cache/merge', async (request, reply) => {
    const result = await run(withOp(bodyObject(request.body), 'merge'));
    return send(reply, result.success ? SUCCESS : NO_SUCCESS);
  });

  app.post('/cache/invalidate', async (request, reply) => {
    const result = await run(withOp(bodyObject(request.body), 'invalidate'));
    return send(reply, { deleted: result.deleted });
  });

  app.post('/cache/clear', async (_request, reply) => {
    const result = await run({ op: 'clear' });
    return send(reply, { success: true, cleared: result.cleared });
  });

  app.get('/cache/scan', async (request, reply) => {
    const query = request.query as Query;
    const result = await run({
      op: 'scan',
      prefix: query.prefix,
      tag: query.tag,
      cursor: query.cursor,
      limit: query.limit === undefined ? undefined : numeric(query.limit),
      keysOnly: flag(query.keys_only, 'keys_only', 'invalid_scan'),
    });
    // A Part 1 client (no cursor, no limit) reads one page and ignores the cursor: a page the response
    // budget cut short (fewer than the default page with more to come) would silently lose keys for it.
    if (query.cursor === undefined && query.limit === undefined && result.cursor !== null && result.count < DEFAULT_SCAN_LIMIT) {
      throw lixError('response_too_large', limits.maxResponseBytes);
    }
    return send(
      reply,
      result.keys ? { keys: result.keys, count: result.count, cursor: result.cursor } : { items: result.items, count: result.count, cursor: result.cursor },
    );
  });

  app.post('/cache/batch', async (request, reply) => {
    const operations = bodyObject(request.body).operations;
    if (!Array.isArray(operations)) {
      throw new LixError(
        'invalid_body',
        `"operations" must be an array of commands, e.g. {"operations":[{"op":"get","key":"user:1"}]}; got ${describe(operations)}.`,
      );
    }
    if (operations.length > limits.maxBatch) throw lixError('batch_too_large', operations.length, limits.maxBatch);
    const commands: Command[] = [];
    let invalid: (ErrorResult | undefined)[] | undefined;
    for (let i = 0; i < operations.length; i++) {
      try {
        const command = parseCommand(operations[i], limits);
        metrics.countOp(command.op);
        commands.push(command);
      } catch (error) {
        if (!(error instanceof LixError)) throw error;
        metrics.countError(error.code);
        (invalid ??= new Array(operations.length))[i] = toErrorResult(operations[i], error);
      }
    }
    // A near cache's reads are registered before they run, so a change right after the read is still sent to it.
    const client = request.headers['x-lix-client'];
    if (typeof client === 'string') events.track(client, commands);
    const ran = commands.length > 0 ? await engine.execute(commands) : [];
    if (invalid === undefined) return send(reply, { results: ran });
    const results: Result[] = [];
    for (let i = 0, next = 0; i < operations.length; i++) results.push(invalid[i] ?? ran[next++]!);
    return send(reply, { results });
  });

  app.get('/cache/events', async (request, reply) => {
    const prefixes = parsePrefixes((request.query as Query).prefix, limits);
    if (!(await events.ready(request.raw))) {
      throw lixError('unavailable', 'the change feed that near caches rely on is not up (for Redis: its tracking connection); near caches read from the store until it is');
    }
    reply.hijack();
    events.open(reply.raw, reply.getHeaders() as OutgoingHttpHeaders, prefixes);
  });

  app.get('/cache/info', async (_request, reply) => send(reply, await info()));

  app.get('/cache/stats', async (_request, reply) => {
    const stats = await engine.stats();
    return send(reply, {
      size: stats.size,
      limit: stats.limit,
      memory: stats.memory,
      maxMemory: stats.maxMemory,
      engine: stats.engine,
      stats: { hits: stats.hits, misses: stats.misses, evictions: stats.evictions, expirations: stats.expirations, operations: stats.operations },
    });
  });
}

/** The body as an object; a missing body reads as `{}` so the command's own validation names the missing field. */
function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new LixError('invalid_body', `The request body must be a JSON object such as {"key":"user:1","value":{"name":"Ada"}}; got ${describe(body)}.`);
  }
  return body as Record<string, unknown>;
}

/**
 * The body as a command of `op`. The body is the request's own freshly parsed object,
 * so the op is set in place: a spread copy cost more than the rest of a SET's handler.
 */
function withOp<C extends Command['op']>(body: Record<string, unknown>, op: C): Record<string, unknown> & { op: C } {
  body.op = op;
  return body as Record<string, unknown> & { op: C };
}

/** A query parameter as a number when it is one; otherwise unchanged, so validation reports what was sent. */
function numeric(value: string | string[]): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const number = Number(value);
  return Number.isNaN(number) ? value : number;
}

function flag(value: string | string[] | undefined, name: string, code: 'invalid_scan' | 'invalid_command'): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1' || value === '') return true;
  if (value === 'false' || value === '0') return false;
  throw new LixError(code, `"${name}" must be true or false; got ${describe(value)}.`);
}
