import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from './config';

/** How often at most a refused connection is logged: a flood must not turn into a flood of log lines. */
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * Bound what slow or numerous clients can hold: the time to send headers and a
 * whole request (node:http answers 408 and closes), open connections in all
 * (node:http closes those past `maxConnections` on accept) and, when set, per
 * client address. Set on the server before it listens: node:http starts its
 * timeout sweep on 'listening' with `connectionsCheckingInterval`. `closeUnused`,
 * called at shutdown, drops connections that never sent a byte.
 */
export function guardConnections(
  server: Server,
  config: Pick<ServerConfig, 'headersTimeoutMs' | 'requestTimeoutMs' | 'maxConnections' | 'maxConnectionsPerIp'>,
  log: FastifyBaseLogger,
): { closeUnused(): void } {
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  // node:http checks the two timeouts only once per interval (default 30 s, which would triple a 10 s limit).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, Math.max(50, Math.floor(config.headersTimeoutMs / 4)));
  server.maxConnections = config.maxConnections;

  let lastLogged = 0;
  const dropped = (setting: string, limit: number, address: string | undefined) => {
    const now = Date.now();
    if (now - lastLogged < DROP_LOG_INTERVAL_MS) return;
    lastLogged = now;
    log.warn({ address, limit }, `refusing connections: ${limit} are open (${setting}); raise it if these clients are legitimate`);
  };
  server.on('drop', (data?: { remoteAddress?: string }) => dropped('LIX_MAX_CONNECTIONS / --max-connections', config.maxConnections, data?.remoteAddress));

  // node:http counts a connection that has sent nothing yet (a client's spare, preconnected socket) as
  // awaiting headers, not idle: a graceful shutdown would wait the headers timeout for it.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const unused = {
    closeUnused() {
      for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
    },
  };

  if (config.maxConnectionsPerIp === 0) return unused;
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const open = perAddress.get(address) ?? 0;
    if (open >= config.maxConnectionsPerIp) {
      socket.destroy();
      dropped('LIX_MAX_CONNECTIONS_PER_IP / --max-connections-per-ip', config.maxConnectionsPerIp, address);
      return;
    }
    perAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = perAddress.get(address)! - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
  return unused;
}
