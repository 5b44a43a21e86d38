import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a server, whose every connection the test can cut at once
 * (as a network failure or a load balancer's idle reaper would): both sides are destroyed.
 */
export interface TcpProxy {
  url: string;
  /** Connections cut so far. */
  readonly cuts: number;
  cutAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { port: number; host?: string }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let cuts = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get cuts() {
      return cuts;
    },
    cutAll() {
      for (const [client, upstream] of pairs) {
        cuts++;
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) (client.destroy(), upstream.destroy());
        server.close(() => resolve());
      }),
  };
}
