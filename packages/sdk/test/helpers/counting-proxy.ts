import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP proxy in front of a real Lix Cache server that counts the
 * requests and batch commands that pass through it, and can misbehave on
 * purpose: `hang` never answers, `hold` keeps requests until `release()`,
 * `dropResponses` forwards a request to the server but cuts the connection
 * instead of returning the answer.
 */
export interface CountingProxy {
  url: string;
  /** Requests received, by path (query stripped). */
  requests: Map<string, number>;
  /** Commands per POST /cache/batch, in arrival order. */
  batches: number[];
  /** The commands of each POST /cache/batch as `op key` (`op` alone when it has no key), in arrival order. */
  commands: string[][];
  /** Total requests to any path. */
  total(): number;
  reset(): void;
  /** Never answer requests while true. */
  hang: boolean;
  /** While true, requests are counted but not forwarded until `release()`: they are "in flight" as long as the test likes. */
  hold: boolean;
  /** Forward the held requests to the server, in arrival order. */
  release(): void;
  /** Cut the connection after the server answered, for this many more requests. */
  dropResponses: number;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const hung = new Set<ServerResponse>();
  let held: (() => void)[] = [];
  const proxy: CountingProxy = {
    url: '',
    requests: new Map(),
    batches: [],
    commands: [],
    total: () => [...proxy.requests.values()].reduce((a, b) => a + b, 0),
    reset() {
      proxy.requests.clear();
      proxy.batches.length = 0;
      proxy.commands.length = 0;
    },
    hang: false,
    hold: false,
    release() {
      const waiting = held;
      held = [];
      for (const forward of waiting) forward();
    },
    dropResponses: 0,
    close: () =>
      new Promise((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0]!;
    proxy.requests.set(path, (proxy.requests.get(path) ?? 0) + 1);
    if (path === '/cache/batch' && req.method === 'POST') {
      const operations = (JSON.parse(body.toString('utf8')) as { operations: { op: string; key?: string }[] }).operations;
      proxy.batches.push(operations.length);
      proxy.commands.push(operations.map((command) => (command.key === undefined ? command.op : `${command.op} ${command.key}`)));
    }
    if (proxy.hang) {
      hung.add(res);
      return;
    }
    const drop = proxy.dropResponses > 0;
    if (drop) proxy.dropResponses--;
    if (proxy.hold) held.push(() => forward(req, res, body, drop));
    else forward(req, res, body, drop);
  });

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, drop: boolean): void {
    const upstreamRequest = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          if (drop) {
            res.socket?.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(parts));
        });
      },
    );
    upstreamRequest.on('error', () => res.socket?.destroy());
    upstreamRequest.end(body);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
