import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { safeEqual } from './tokens';

/** Options of `csrfProtection()`. */
export interface CsrfOptions {
  /** Request header that carries the token (default `'x-csrf-token'`). */
  header?: string;
  /** Body field that carries the token, for HTML forms (default `'csrfToken'`). */
  field?: string;
  /** Methods that never change state and pass unchecked (default GET, HEAD, OPTIONS). */
  safeMethods?: string[];
}

/**
 * CSRF protection bound to the session (mount it after `lixSession()` and a body parser).
 * Unsafe requests (POST, PUT, PATCH, DELETE, ...) that carry a session must send the
 * session's `csrfToken` in the `x-csrf-token` header or a `csrfToken` body field; it is
 * compared in constant time, and a missing or wrong token gets 403. Safe methods pass,
 * and so do requests without a session, such as the login itself (nothing to forge).
 */
export function csrfProtection(options: CsrfOptions = {}): RequestHandler {
  const header = (options.header ?? 'x-csrf-token').toLowerCase();
  const field = options.field ?? 'csrfToken';
  const safe = new Set((options.safeMethods ?? ['GET', 'HEAD', 'OPTIONS']).map((method) => method.toUpperCase()));

  return function csrfCheck(req: Request, res: Response, next: NextFunction): void {
    const session = req.session;
    if (safe.has(req.method) || !session) return next();
    const fromHeader = req.headers[header];
    const sent = typeof fromHeader === 'string' ? fromHeader : (req.body as Record<string, unknown> | undefined)?.[field];
    if (typeof sent === 'string' && safeEqual(sent, session.csrfToken)) return next();
    res.status(403).json({
      error: 'Invalid CSRF token',
      message: `${typeof sent === 'string' ? 'The CSRF token does not match this session' : 'The CSRF token is missing'}: send the session's csrfToken in the ${header} header or a "${field}" body field.`,
    });
  };
}
