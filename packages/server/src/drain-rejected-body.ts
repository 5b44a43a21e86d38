import type { IncomingMessage } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Most bytes of a refused body read and thrown away before the connection is
 * cut. A client that sends more than this gets a reset instead of the 413.
 */
export const DRAIN_CAP_BYTES = 64 * 1024 * 1024;

/**
 * Let a client whose body was refused as too large read the 413. fastify marks
 * that reply `Connection: close`, and node:http then closes the socket while
 * the client is still sending: its next write draws a TCP reset, which throws
 * away the 413 before the client reads it (fetch and the SDK reported "could
 * not reach the server"). Instead the rest of the body is read and discarded
 * (up to DRAIN_CAP_BYTES, nothing kept), and the connection stays usable.
 */
export function drainRejectedBody(request: IncomingMessage, reply: FastifyReply): void {
  if (request.complete || request.destroyed) return;
  reply.removeHeader('connection');
  let left = DRAIN_CAP_BYTES;
  request.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) request.socket.destroy();
  });
  request.resume();
}
