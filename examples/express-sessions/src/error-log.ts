import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

/*
 * One error line for every response with status >= 500, whoever answered it: a route's own
 * 500, `sessionErrorHandler()`'s 503 when the cache is down, lixSession's 503 or a session
 * change that could not be saved. The line is written once, when the response has been
 * sent (a `finish` hook), with the error the response answers when the app saw one; the
 * handlers that see errors only keep them for that line, so nothing is logged twice.
 */

const ANSWERED = Symbol('the error this response answers');
type WithError = Response & { [ANSWERED]?: unknown };

function keep(res: Response, error: unknown): void {
  (res as WithError)[ANSWERED] ??= error;
}

/** The path without its query string (which may hold anything a client sent). */
function pathOf(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Mount first: once a response with status >= 500 is sent, log it at error level (method, path, status, err). */
export function logServerErrors(logger: Logger): RequestHandler {
  return function serverErrorLog(req, res, next) {
    res.once('finish', () => {
      if (res.statusCode < 500) return;
      const path = pathOf(req);
      logger.error({ method: req.method, path, status: res.statusCode, err: (res as WithError)[ANSWERED] }, `${req.method} ${path} answered ${res.statusCode}`);
    });
    next();
  };
}

/** Error middleware, mounted before the handlers that answer errors: keeps the error for the log line and passes it on. */
export const keepError: ErrorRequestHandler = function keepError(error, _req, res, next) {
  keep(res, error);
  next(error);
};

/** lixSession's `onLoadError`: the cache could not be reached to load the session, so its 503's line carries why. */
export function keepLoadError(error: unknown, req: Request): void {
  keep(req.res!, error);
}

/**
 * lixSession's `onSaveError`: a session change that could not be saved turns the response
 * into a 503 (cache down) or 500, whose line carries the error. Had the response already
 * gone out (it had sent its headers), it is logged here, as nothing else will.
 */
export function keepSaveError(logger: Logger): (error: unknown, req: Request) => void {
  return (error, req) => {
    const res = req.res!;
    if (!res.headersSent) return keep(res, error);
    logger.error({ method: req.method, path: pathOf(req), status: res.statusCode, err: error }, 'a session change was not saved');
  };
}
