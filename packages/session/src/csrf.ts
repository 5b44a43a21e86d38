import type { RequestSession } from './session-handler';
import { safeEqual } from './tokens';

/** Options of every adapter's `csrfProtection()`. */
export interface CsrfOptions {
  /** Request header that carries the token (default `'x-csrf-token'`). */
  header?: string;
  /** Body field that carries the token, for HTML forms (default `'csrfToken'`). */
  field?: string;
  /** Methods that never change state and pass unchecked (default GET, HEAD, OPTIONS). */
  safeMethods?: string[];
}

/** The 403 body of a request that failed the check. */
export interface CsrfFailure {
  error: 'Invalid CSRF token';
  message: string;
}

/** `csrfProtection` options, checked once, and the check they make. */
export interface CsrfCheck {
  /** Lower-case header name. */
  header: string;
  field: string;
  /** Whether this method must carry a token. */
  needsToken(method: string): boolean;
  /** undefined when the request may pass, else the 403 body. `sent` is the header's or body field's value. */
  check(session: RequestSession<object>, method: string, sent: unknown): CsrfFailure | undefined;
}

/**
 * CSRF protection bound to the session, for every adapter. Unsafe requests (POST, PUT,
 * PATCH, DELETE, ...) that carry a session or a saved guest session must send its
 * `csrfToken` in the header or body field; it is compared in constant time. Safe methods
 * pass, and so do requests without a session, such as the login itself (nothing to forge).
 */
export function createCsrfCheck(options: CsrfOptions = {}): CsrfCheck {
  if (typeof options !== 'object' || options === null) throw new TypeError('csrfProtection(options): options must be an object such as { header: "x-csrf-token" }.');
  const { header = 'x-csrf-token', field = 'csrfToken', safeMethods = ['GET', 'HEAD', 'OPTIONS'] } = options;
  if (typeof header !== 'string' || header === '') throw new TypeError(`csrfProtection: "header" must be a header name such as "x-csrf-token"; got ${String(header)}.`);
  if (typeof field !== 'string' || field === '') throw new TypeError(`csrfProtection: "field" must be a body field name such as "csrfToken"; got ${String(field)}.`);
  if (!Array.isArray(safeMethods) || !safeMethods.every((method) => typeof method === 'string')) {
    throw new TypeError('csrfProtection: "safeMethods" must be an array of HTTP methods such as ["GET", "HEAD", "OPTIONS"].');
  }
  const safe = new Set(safeMethods.map((method) => method.toUpperCase()));
  const lower = header.toLowerCase();
  const needsToken = (method: string) => !safe.has(method.toUpperCase());
  return {
    header: lower,
    field,
    needsToken,
    check(session, method, sent) {
      const expected = session.csrfToken;
      if (expected === undefined || !needsToken(method)) return undefined;
      if (typeof sent === 'string' && safeEqual(sent, expected)) return undefined;
      return {
        error: 'Invalid CSRF token',
        message: `${typeof sent === 'string' ? 'The CSRF token does not match this session' : 'The CSRF token is missing'}: send the session's csrfToken in the ${lower} header or a "${field}" body field.`,
      };
    },
  };
}

/**
 * The token `field` of a JSON or form body, for web-standard adapters (Hono, Next.js);
 * undefined when the body is neither or does not parse. `read` parses the body; by default
 * a clone of the request, so that the route can still read the body itself.
 */
export async function bodyField(request: Request, field: string, read: (kind: 'json' | 'form') => Promise<unknown> = (kind) => (kind === 'json' ? request.clone().json() : request.clone().formData())): Promise<unknown> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const kind = type === 'application/json' || type.endsWith('+json') ? 'json' : type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data' ? 'form' : undefined;
  if (!kind) return undefined;
  try {
    const body = await read(kind);
    if (body instanceof FormData) return body.get(field) ?? undefined;
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  } catch {
    return undefined; // an unreadable body carries no token
  }
}
