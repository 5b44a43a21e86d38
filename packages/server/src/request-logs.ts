import type { FastifyBaseLogger, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { LogController } from 'fastify';
import type { LogFormat, LogLevel } from './config';

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
export function requestLogOptions(level: LogLevel, format: LogFormat): Pick<FastifyServerOptions, 'logController' | 'loggerInstance'> {
  const options = { level, name: 'lix-cache-server' };
  // pino-pretty in-process (not a worker transport): pretty output is for a person at a terminal, not for load.
  const root = format === 'pretty' ? pino(options, pretty({ ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' })) : pino(options);
  // child() answers the same logger, so fastify's per-request child is free.
  const shared = Object.create(root) as FastifyBaseLogger;
  shared.child = () => shared;
  return {
    logController: level === 'debug' || level === 'trace' ? new DebugRequestLogs() : new LogController({ disableRequestLogging: true }),
    loggerInstance: shared,
  };
}
