import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LixCache } from '../src/index';
import { waitFor } from '../../../test/helpers/wait-for';

/**
 * The near cache's event channel against a server whose every move the test scripts:
 * a real node:http server speaking the /cache/events and /cache/batch wire formats, so
 * that drops, silence, malformed events and exact races happen on cue. The real server
 * is tested in packages/server and test/near-cache/.
 */

interface Channel {
  request: IncomingMessage;
  response: ServerResponse;
}

describe('the near cache event channel', () => {
  let server: Server;
  let url: string;
  /** Open event streams, newest last. */
  const channels: Channel[] = [];
  /** How each new event stream is answered (default: hello, then nothing). */
  let onEvents: (channel: Channel) => void;
  /** Batch requests seen: their x-lix-client header and body. */
  const batches: { client: string | undefined; body: string }[] = [];
  /** Called before a batch is answered; the answer waits for the promise. */
  let beforeAnswer: () => Promise<void>;
  let value = 'v1';
  const clients: LixCache[] = [];

  const hello = (channel: Channel, heartbeatMs = 10_000) => {
    channel.response.writeHead(200, { 'content-type': 'text/event-stream' });
    channel.response.write(`event: hello\ndata: {"client":"c${channels.length}","mode":"tracking","heartbeatMs":${heartbeatMs}}\n\n`);
  };
  const send = (channel: Channel, event: string, data: string) => channel.response.write(`event: ${event}\ndata: ${data}\n\n`);
  const latest = () => channels[channels.length - 1]!;
  const client = (config: ConstructorParameters<typeof LixCache>[0] = {}) => {
    const cache = new LixCache({ url, maxRetries: 0, nearCache: true, ...config });
    clients.push(cache);
    return cache;
  };
  const live = (cache: LixCache) => cache.nearCacheStats()!.live;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url!.startsWith('/cache/events')) {
        const channel = { request, response };
        channels.push(channel);
        onEvents(channel);
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', async () => {
        batches.push({ client: request.headers['x-lix-client'] as string | undefined, body });
        await beforeAnswer();
        const { operations } = JSON.parse(body) as { operations: { op: string; key: string }[] };
        const results = operations.map((command) => ({ op: 'get', key: command.key, value, ttl: null, found: true }));
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((cache) => cache.close()));
    for (const { response } of channels.splice(0)) response.destroy();
    batches.length = 0;
    value = 'v1';
    onEvents = (channel) => hello(channel);
    beforeAnswer = async () => {};
  });
  onEvents = (channel) => hello(channel);
  beforeAnswer = async () => {};

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('goes live on hello, names its channel on every batch, and drops what the server says changed', async () => {
    const cache = client();
    await waitFor(() => live(cache), { timeoutMs: 2000 });
    expect(await cache.get('k')).toBe('v1');
    expect(await cache.get('k')).toBe('v1');
    expect(cache.nearCacheStats()).toMatchObject({ hits: 1, misses: 1 });
    expect(batches.map((batch) => batch.client)).toEqual(['c1']);
    value = 'v2';
    send(latest(), 'invalidate', '{"keys":["k"]}');
    await waitFor(() => cache.nearCacheStats()!.invalidations === 1, { timeoutMs: 2000 });
    expect(await cache.get('k')).toBe('v2');
    send(latest(), 'flush', '{}');
    await waitFor(() => cache.nearCacheStats()!.flushes === 1, { timeoutMs: 2000 });
    value = 'v3';
    expect(await cache.get('k')).toBe('v3');
  });

  it('broadcast mode asks for its prefixes and sends no channel id', async () => {
    const cache = client({ nearCache: { prefixes: ['session:', 'a b'] } });
    await waitFor(() => live(cache), { timeoutMs: 2000 });
    expect(latest().request.url).toBe('/cache/events?prefix=session%3A&prefix=a%20b');
    await cache.get('session:1');
    expect(batches[0]!.client).toBeUndefined();
  });

  it('a read that was in flight when its key was invalidated is returned but not kept', async () => {
    const cache = client();
    await waitFor(() => live(cache), { timeoutMs: 2000 });
    // The server reads v1, then a write lands and its invalidation reaches the client before the read's answer.
    beforeAnswer = async () => {
      send(latest(), 'invalidate', '{"keys":["raced"]}');
      await waitFor(() => cache.nearCacheStats()!.invalidations === 1, { timeoutMs: 2000 });
    };
    expect(await cache.get('raced')).toBe('v1');
    beforeAnswer = async () => {};
    value = 'v2';
    expect(await cache.get('raced')).toBe('v2');
    expect(cache.nearCacheStats()!.hits).toBe(0);
  });

  it('a channel that ends, errs or sends a malformed event is down at once: flushed, bypassed, reconnected', async () => {
    const cache = client();
    await waitFor(() => live(cache), { timeoutMs: 2000 });
    const faults: [string, () => void][] = [
      ['ended', () => latest().response.end()],
      ['destroyed', () => latest().response.destroy()],
      ['malformed invalidate', () => send(latest(), 'invalidate', '{"keys":"k"}')],
      ['invalid JSON', () => send(latest(), 'invalidate', '{nope')],
    ];
    for (const [what, fault] of faults) {
      await cache.get('k');
      await cache.get('k');
      const { flushes, hits } = cache.nearCacheStats()!;
      const connections = channels.length;
      fault();
      await waitFor(() => cache.nearCacheStats()!.flushes > flushes, { timeoutMs: 2000, what });
      // Down: nothing is served locally, whatever was held.
      await cache.get('k');
      expect(cache.nearCacheStats()!.hits, what).toBe(hits);
      await waitFor(() => channels.length > connections && live(cache), { timeoutMs: 5000, what });
    }
  });

  it('a silent channel (no heartbeat) counts as dropped', async () => {
    onEvents = (channel) => hello(channel, 50);
    const cache = client();
    await waitFor(() => live(cache), { timeoutMs: 2000 });
    await waitFor(() => cache.nearCacheStats()!.flushes >= 1 && channels.length >= 2, { timeoutMs: 3000 });
  });

  it('a refused channel warns once with what to check, and every read goes to the cache', async () => {
    onEvents = ({ response }) => response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Unauthorized"}');
    const warnings: string[] = [];
    const cache = client({ logger: { warn: (message) => warnings.push(message) } });
    await waitFor(() => channels.length >= 3, { timeoutMs: 5000 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/near cache is off.*\/cache\/events refused the event channel \(the server answered 401.*Unauthorized.*\).*API key/s);
    await cache.get('k');
    await cache.get('k');
    expect(cache.nearCacheStats()).toMatchObject({ hits: 0, live: false });
    expect(batches.every((batch) => batch.client === undefined)).toBe(true);
  });

  it('close() hangs up the channel', async () => {
    const cache = client();
    await waitFor(() => live(cache), { timeoutMs: 2000 });
    const { request } = latest();
    const closed = new Promise((resolve) => request.socket.on('close', resolve));
    await cache.close();
    await closed;
    expect(channels).toHaveLength(1);
  });
});
