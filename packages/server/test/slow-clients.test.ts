import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

/** A raw client connection: what it has received, and whether the server closed it. */
interface RawConnection {
  socket: Socket;
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
}

function open(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let data = '';
    let done = false;
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    // A refused connection may end with a reset: that is a close too.
    socket.on('error', () => {});
    const closed = new Promise<void>((close) => socket.once('close', () => ((done = true), close())));
    socket.once('connect', () => resolve({ socket, received: () => data, closed, isClosed: () => done }));
    socket.once('error', reject);
  });
}

const HEALTH = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/** Send GET /health on a keep-alive connection: the answer's text, or null when the server closed it instead. */
async function health(connection: RawConnection): Promise<string | null> {
  const before = connection.received().length;
  if (connection.isClosed()) return null;
  connection.socket.write(HEALTH);
  await waitFor(() => connection.isClosed() || connection.received().includes('"status":"healthy"}', before), { what: 'an answer or a close', timeoutMs: 10_000 });
  const answer = connection.received().slice(before);
  return answer.includes('"status":"healthy"}') ? answer : null;
}

describe('slow clients: header and request timeouts', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer({ env: { LIX_HEADERS_TIMEOUT_MS: '1500', LIX_REQUEST_TIMEOUT_MS: '3000' } });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('closes slow-loris sockets (headers trickled, or nothing sent) with 408, while /health keeps answering', async () => {
    const loris = await Promise.all(Array.from({ length: 20 }, () => open(server.port)));
    const silent = await Promise.all(Array.from({ length: 5 }, () => open(server.port)));
    for (const connection of loris) connection.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One header line every 100 ms until closed, at most 15 s (Node's defaults would keep them 60 s and more).
    // The timeouts are 1.5 s and 3 s rather than less so a fresh request is not cut off on a loaded machine.
    let lines = 0;
    const trickle = setInterval(() => {
      lines++;
      for (const connection of loris) if (!connection.isClosed()) connection.socket.write(`X-Slow-${lines}: x\r\n`);
    }, 100);
    try {
      const fresh = await open(server.port);
      expect(await health(fresh)).toMatch(/^HTTP\/1\.1 200/);
      fresh.socket.destroy();
      await waitFor(() => [...loris, ...silent].every((connection) => connection.isClosed()), { what: 'every slow socket to be closed', timeoutMs: 15_000, intervalMs: 100 });
    } finally {
      clearInterval(trickle);
      for (const connection of [...loris, ...silent]) connection.socket.destroy();
    }
    for (const connection of loris) expect(connection.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(lines).toBeGreaterThan(0);
  });

  it('closes a request whose body is trickled past the request timeout', async () => {
    const slow = await open(server.port);
    slow.socket.write('POST /cache/set HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"key":"slow","value":"');
    const trickle = setInterval(() => !slow.isClosed() && slow.socket.write('x'), 100);
    try {
      await waitFor(() => slow.isClosed(), { what: 'the slow body to be cut off', timeoutMs: 15_000, intervalMs: 100 });
    } finally {
      clearInterval(trickle);
      slow.socket.destroy();
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe('connection caps', () => {
  it('past LIX_MAX_CONNECTIONS new connections are refused, open ones keep being answered', async () => {
    const cap = 5;
    const server = await startServer({ env: { LIX_MAX_CONNECTIONS: String(cap) } });
    const connections: RawConnection[] = [];
    try {
      // The helper's own /health poll may still hold one connection, so the first refusal comes at cap or cap + 1.
      let refusedAt = -1;
      for (let i = 0; i <= cap && refusedAt === -1; i++) {
        const connection = await open(server.port);
        connections.push(connection);
        if ((await health(connection)) === null) refusedAt = i + 1;
      }
      expect(refusedAt === cap || refusedAt === cap + 1, `first refused connection: ${refusedAt}`).toBe(true);
      expect(connections.at(-1)!.received()).toBe('');
      // An accepted connection is still served while the server is full.
      expect(await health(connections[0]!)).toMatch(/^HTTP\/1\.1 200/);
      // pino writes asynchronously: wait for the line rather than read the logs once.
      await waitFor(() => server.logs().includes('LIX_MAX_CONNECTIONS'), { what: 'the refusal to be logged' });
      // Room again once one closes.
      connections[0]!.socket.destroy();
      await connections[0]!.closed;
      await waitFor(async () => {
        const next = await open(server.port);
        connections.push(next);
        return (await health(next)) !== null;
      }, { what: 'a new connection to be accepted', timeoutMs: 10_000 });
    } finally {
      for (const connection of connections) connection.socket.destroy();
      expect(await server.stop()).toBe(0);
    }
  });

  it('past LIX_MAX_CONNECTIONS_PER_IP one address is refused while others are served', async () => {
    const cap = 3;
    const server = await startServer({ env: { LIX_MAX_CONNECTIONS_PER_IP: String(cap) } });
    const connections: RawConnection[] = [];
    try {
      // From 127.0.0.2 (Linux routes all of 127/8 to loopback), where nothing else is connected.
      for (let i = 0; i < cap; i++) {
        const connection = await open(server.port, '127.0.0.2');
        connections.push(connection);
        expect(await health(connection), `connection ${i + 1}`).toMatch(/^HTTP\/1\.1 200/);
      }
      const extra = await open(server.port, '127.0.0.2');
      connections.push(extra);
      expect(await health(extra)).toBeNull();
      const other = await open(server.port, '127.0.0.3');
      connections.push(other);
      expect(await health(other)).toMatch(/^HTTP\/1\.1 200/);
      expect(await health(connections[0]!)).toMatch(/^HTTP\/1\.1 200/);
      await waitFor(() => server.logs().includes('LIX_MAX_CONNECTIONS_PER_IP'), { what: 'the refusal to be logged' });
    } finally {
      for (const connection of connections) connection.socket.destroy();
      expect(await server.stop()).toBe(0);
    }
  });
});
