import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** On a socket, the requests held back behind an unsafe request that is not answered yet. */
const HELD = Symbol('lix.heldRequests');

type HeldSocket = Socket & { [HELD]?: [IncomingMessage, ServerResponse][] };

/**
 * Run a connection's pipelined requests in order after an unsafe one. node:http
 * hands every pipelined request to the handler as soon as it is parsed, so
 * `POST /cache/set` then `GET /cache/get` on one socket raced, and the GET (which
 * needs no body, and may take the fast lane) read the old value. A request that
 * is not GET/HEAD/OPTIONS now holds back the socket's later requests until its
 * response is finished (the engine has applied it by then); they then run in
 * arrival order, up to the next unsafe one. Reads in a row still run at once.
 *
 * Hand-written because it has to wrap the raw request listener (the fast lane
 * answers before fastify). The common, non-pipelined request pays one property
 * read; only unsafe requests add listeners.
 */
export function inPipelineOrder(handler: RequestListener): RequestListener {
  function dispatch(request: IncomingMessage, response: ServerResponse): void {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
      const socket = request.socket as HeldSocket;
      socket[HELD] = [];
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        const held = socket[HELD]!;
        socket[HELD] = undefined;
        for (let i = 0; i < held.length; i++) {
          const [nextRequest, nextResponse] = held[i]!;
          dispatch(nextRequest, nextResponse);
          // Another unsafe request: it holds back the rest in turn.
          const heldAgain = (socket as HeldSocket)[HELD] as HeldSocket[typeof HELD];
          if (heldAgain !== undefined) {
            heldAgain.push(...held.slice(i + 1));
            return;
          }
        }
      };
      // 'close' also covers a response that never finishes because the connection went away.
      response.once('finish', release);
      response.once('close', release);
    }
    handler(request, response);
  }

  return (request, response) => {
    const held = (request.socket as HeldSocket)[HELD];
    if (held !== undefined) held.push([request, response]);
    else dispatch(request, response);
  };
}
