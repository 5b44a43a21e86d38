import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';

interface RawResponse {
  status: number;
  body: string;
}

/** Read `count` HTTP/1.1 responses (Content-Length framed, as the server sends them) from a socket. */
function readResponses(socket: Socket, count: number): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        responses.push({ status: Number(head.split(' ')[1]), body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
        buffer = buffer.subarray(end + 4 + length);
        if (responses.length === count) {
          socket.off('data', onData).off('error', reject).off('close', onClose);
          resolve(responses);
          return;
        }
      }
    };
    const onClose = (): void => reject(new Error(`socket closed after ${responses.length} of ${count} responses`));
    socket.on('data', onData).once('error', reject).once('close', onClose);
  });
}

function post(path: string, body: unknown): string {
  const text = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}
const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const del = (path: string): string => `DELETE ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

async function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

// Pipelined requests on one keep-alive socket: a write must be applied before a later read of the same connection runs.
// Both lanes: the GET fast lane (info) and fastify alone (LOG_LEVEL=debug turns the lane off).
describe.each([
  ['the GET fast lane', {}],
  ['fastify only (debug)', { LOG_LEVEL: 'debug' }],
])('pipelined requests on %s', (_lane, env) => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('POST set then GET, written in one packet, reads the new value every time', async () => {
    const socket = await openSocket(server.url);
    try {
      for (let i = 1; i <= 100; i++) {
        const answers = readResponses(socket, 2);
        socket.write(post('/cache/set', { key: 'pipe', value: { n: i } }) + get('/cache/get?key=pipe'));
        const [set, read] = await answers;
        expect(set).toEqual({ status: 200, body: '{"success":true}' });
        expect({ i, status: read!.status, body: JSON.parse(read!.body) }).toEqual({ i, status: 200, body: { value: { n: i }, ttl: null } });
      }
    } finally {
      socket.destroy();
    }
  });

  it('keeps the order across several writes and reads: set, get, delete, get, incr, get', async () => {
    const socket = await openSocket(server.url);
    try {
      for (let i = 1; i <= 30; i++) {
        const answers = readResponses(socket, 6);
        socket.write(
          post('/cache/set', { key: `p${i}`, value: 'x' }) +
            get(`/cache/get?key=p${i}`) +
            del(`/cache/delete?key=p${i}`) +
            get(`/cache/get?key=p${i}`) +
            post('/cache/incr', { key: `p${i}`, amount: i }) +
            get(`/cache/get?key=p${i}`),
        );
        const statuses = (await answers).map((answer) => `${answer.status} ${answer.body}`);
        expect(statuses).toEqual([
          '200 {"success":true}',
          '200 {"value":"x","ttl":null}',
          '200 {"success":true}',
          '404 {"error":"not found"}',
          `200 {"value":${i}}`,
          `200 {"value":${i},"ttl":null}`,
        ]);
      }
    } finally {
      socket.destroy();
    }
  });
});
