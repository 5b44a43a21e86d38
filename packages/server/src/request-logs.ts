import type { FastifyBaseLogger, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { pino } from 'pino';
import { LogController } from 'fastify';
import type { LogLevel } from './config';

/** Fastify's per-request log lines, at debug instead of info, with the request id. */
class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ reqId: request.id, req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) request.log.error({ reqId: request.id, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else request.log.debug({ reqId: request.id, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * Logging options that keep logging off the hot path: `request.log` is the
 * server's logger itself, not a pino child built per request (log calls pass
 * `reqId` instead), and per-request lines are written only at debug or trace.
 */
export function requestLogOptions(level: LogLevel): Pick<FastifyServerOptions, 'logController' | 'loggerInstance'> {
  const root = pino({ level, name: 'lix-cache-server' });
  // child() answers the same logger, so fastify's per-request child is free.
  const shared = Object.create(root) as FastifyBaseLogger;
  shared.child = () => shared;
  return {
    logController: level === 'debug' || level === 'trace' ? new DebugRequestLogs() : new LogController({ disableRequestLogging: true }),
    loggerInstance: shared,
  };
}
