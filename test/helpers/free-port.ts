import { createServer } from 'node:net';

/*
 * Ports are drawn from below Linux's ephemeral range (32768-60999), where the OS puts the
 * local end of every outgoing connection: a server that a test stops and restarts on the
 * same port (Redis, a Lix server) could otherwise find that port taken by some client socket
 * in the meantime, and fail to start.
 */
const LOW = 20_000;
const HIGH = 32_767;

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free right now, outside the OS's ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (await tryListen(port)) return port;
  }
  throw new Error(`No free port found between ${LOW} and ${HIGH} after 100 tries.`);
}
