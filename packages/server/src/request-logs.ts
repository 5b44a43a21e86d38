import type { FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import type { LogLevel } from './config';

/** Fastify's per-request log lines, at debug instead of info. */
class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, _request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * Per-request logs only at debug or trace. At other levels they are switched
 * off entirely, so an info-level server does no per-request logging work.
 */
export function requestLogController(level: LogLevel): LogController {
  return level === 'debug' || level === 'trace' ? new DebugRequestLogs() : new LogController({ disableRequestLogging: true });
}
