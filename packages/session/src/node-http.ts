import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress, type TrustFunction } from './client-address';
import type { ErrorResponse } from './responses';
import type { PendingCookie } from './session-handler';
import type { ClientInfo } from './session-store';

/*
 * The thin Node path of the neutral core: the client from an IncomingMessage, and cookies and
 * error answers onto a ServerResponse. Express uses it; so can a bare node:http server.
 */

/** The client of a request: its address (through trusted proxies only) and User-Agent. */
export function nodeClient(req: IncomingMessage, trust: TrustFunction | undefined, fallbackIp?: string): ClientInfo {
  const forwardedFor = req.headers['x-forwarded-for'];
  const ip = trust ? clientAddress(req.socket.remoteAddress, Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor, trust) : (fallbackIp ?? req.socket.remoteAddress);
  return { ip, userAgent: req.headers['user-agent'] };
}

/** Add Set-Cookie lines to a response, replacing an earlier line for the same name and keeping the others. */
export function setCookies(res: ServerResponse, cookies: PendingCookie[]): void {
  if (cookies.length === 0 || res.headersSent) return;
  const current = res.getHeader('Set-Cookie');
  const names = new Set(cookies.map((cookie) => cookie.name));
  const kept = current === undefined ? [] : (Array.isArray(current) ? current : [String(current)]).filter((line) => {
    const equals = line.indexOf('=');
    return equals === -1 || !names.has(line.slice(0, equals));
  });
  res.setHeader('Set-Cookie', [...kept, ...cookies.map((cookie) => cookie.line)]);
}

/** Answer with an `ErrorResponse` (JSON), replacing whatever the route had set up. */
export function sendError(res: ServerResponse, response: ErrorResponse, end: (body: string) => void = (body) => res.end(body)): void {
  const body = JSON.stringify(response.body);
  res.statusCode = response.status;
  res.removeHeader('ETag');
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  end(body);
}
