import { createParser } from 'eventsource-parser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LixCache } from 'lix-cache-sdk';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

/** One open `GET /cache/events` stream, read with eventsource-parser as the SDK reads it. */
interface EventStream {
  status: number;
  /** Named events so far, in order (`ping` for each heartbeat comment). */
  events: { event: string; data: unknown }[];
  client: string;
  ended(): boolean;
  close(): void;
}

async function openEvents(url: string, query = '', headers: Record<string, string> = {}): Promise<EventStream> {
  const abort = new AbortController();
  const response = await fetch(`${url}/cache/events${query}`, { headers, signal: abort.signal });
  const stream: EventStream = { status: response.status, events: [], client: '', ended: () => ended, close: () => abort.abort() };
  let ended = false;
  const parser = createParser({
    onEvent: ({ event, data }) => stream.events.push({ event: event ?? 'message', data: JSON.parse(data) }),
    onComment: () => stream.events.push({ event: 'ping', data: null }),
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      // aborted by close()
    }
    ended = true;
  })();
  if (response.status === 200) {
    const hello = await waitFor(() => stream.events.find((event) => event.event === 'hello'), { what: 'hello' });
    stream.client = (hello!.data as { client: string }).client;
  }
  return stream;
}

/** Keys of the `invalidate` events after `from`. */
const invalidated = (stream: EventStream, from = 0) =>
  stream.events.slice(from).flatMap((event) => (event.event === 'invalidate' ? (event.data as { keys: string[] }).keys : []));

describe('GET /cache/events', () => {
  let server: ServerProcess;
  const open: EventStream[] = [];
  const events = async (query?: string, headers?: Record<string, string>) => {
    const stream = await openEvents(server.url, query, headers);
    open.push(stream);
    return stream;
  };
  const batch = async (operations: object[], client?: string) => {
    const response = await fetch(`${server.url}/cache/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(client ? { 'x-lix-client': client } : {}) },
      body: JSON.stringify({ operations }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { results: unknown[] }).results;
  };

  beforeAll(async () => {
    server = await startServer({ env: { LIX_MAX_TRACKED_KEYS: '50', LIX_EVENTS_HEARTBEAT_MS: '100', LIX_HEADERS_TIMEOUT_MS: '300', LIX_REQUEST_TIMEOUT_MS: '400' } });
  });
  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('says hello, then sends each key a client read once, when it first changes', async () => {
    const stream = await events();
    expect(stream.status).toBe(200);
    expect(stream.events[0]).toEqual({ event: 'hello', data: { client: stream.client, mode: 'tracking', heartbeatMs: 100 } });
    await batch([{ op: 'get', key: 'once:a' }, { op: 'exists', key: 'once:b' }], stream.client);
    await batch([{ op: 'set', key: 'once:a', value: 1 }, { op: 'set', key: 'once:b', value: 1 }, { op: 'set', key: 'once:unread', value: 1 }]);
    await waitFor(() => invalidated(stream).length >= 2, { what: 'the two invalidations' });
    expect(invalidated(stream).sort()).toEqual(['once:a', 'once:b']);
    // Sent once: a second write is not sent until the key is read again.
    const mark = stream.events.length;
    await batch([{ op: 'set', key: 'once:a', value: 2 }]);
    await batch([{ op: 'get', key: 'once:c' }], stream.client);
    await batch([{ op: 'set', key: 'once:c', value: 1 }]);
    await waitFor(() => invalidated(stream, mark).length > 0, { what: 'the next invalidation' });
    expect(invalidated(stream, mark)).toEqual(['once:c']);
  });

  it('sends every kind of change: write, merge, incr, TTL change, delete, tag invalidate, expiry; clear sends flush', async () => {
    const stream = await events();
    await batch([
      { op: 'set', key: 'kind:merge', value: { a: 1 } },
      { op: 'set', key: 'kind:expire', value: 1 },
      { op: 'set', key: 'kind:delete', value: 1 },
      { op: 'set', key: 'kind:tagged', value: 1, tags: ['kind-tag'] },
      { op: 'set', key: 'kind:ttl', value: 1, ttl: 0.05 },
    ]);
    const keys = ['kind:set', 'kind:merge', 'kind:incr', 'kind:expire', 'kind:delete', 'kind:tagged', 'kind:ttl'];
    await batch(keys.map((key) => ({ op: 'get', key })), stream.client);
    await batch([
      { op: 'set', key: 'kind:set', value: 1 },
      { op: 'merge', key: 'kind:merge', value: { b: 2 } },
      { op: 'incr', key: 'kind:incr' },
      { op: 'expire', key: 'kind:expire', ttl: 100 },
      { op: 'delete', key: 'kind:delete' },
      { op: 'invalidate', tag: 'kind-tag' },
    ]);
    // kind:ttl expires by itself (50 ms); the sweep or a read finds it.
    await waitFor(async () => (await batch([{ op: 'exists', key: 'kind:ttl' }]))[0] && invalidated(stream).includes('kind:ttl'), { what: 'the expiry' });
    expect(invalidated(stream).sort()).toEqual([...keys].sort());
    await batch([{ op: 'clear' }]);
    await waitFor(() => stream.events.some((event) => event.event === 'flush'), { what: 'flush' });
  });

  it('broadcast mode (?prefix=) sends every change under its prefixes, read or not', async () => {
    const stream = await events('?prefix=sess:&prefix=user:');
    expect(stream.events[0]!.data).toMatchObject({ mode: 'broadcast' });
    await batch([{ op: 'set', key: 'sess:1', value: 1 }, { op: 'set', key: 'other:1', value: 1 }, { op: 'set', key: 'user:1', value: 1 }]);
    await waitFor(() => invalidated(stream).length >= 2, { what: 'broadcast invalidations' });
    expect(invalidated(stream)).toEqual(['sess:1', 'user:1']);
  });

  it('past LIX_MAX_TRACKED_KEYS, the oldest tracked key is invalidated and forgotten', async () => {
    const stream = await events();
    await batch(Array.from({ length: 50 }, (_, i) => ({ op: 'get', key: `table:${i}` })), stream.client);
    expect(invalidated(stream)).toEqual([]);
    await batch([{ op: 'get', key: 'table:50' }], stream.client);
    await waitFor(() => invalidated(stream).length > 0, { what: 'the oldest key dropped' });
    expect(invalidated(stream)).toEqual(['table:0']);
  });

  it('heartbeats keep flowing past the request timeout, and the channel still delivers', async () => {
    const stream = await events();
    // 400 ms request timeout, 100 ms heartbeats: ten pings are a second past it.
    await waitFor(() => stream.events.filter((event) => event.event === 'ping').length >= 10, { what: 'ten heartbeats', timeoutMs: 10_000 });
    expect(stream.ended()).toBe(false);
    await batch([{ op: 'get', key: 'late' }], stream.client);
    await batch([{ op: 'set', key: 'late', value: 1 }]);
    await waitFor(() => invalidated(stream).includes('late'), { what: 'the invalidation' });
  });

  it('refuses bad prefixes with invalid_events, saying what is accepted', async () => {
    const tooMany = await fetch(`${server.url}/cache/events?${Array.from({ length: 33 }, (_, i) => `prefix=p${i}`).join('&')}`);
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toEqual({ code: 'invalid_events', error: expect.stringMatching(/At most 32 "prefix" parameters.*got 33/) });
    const tooLong = await fetch(`${server.url}/cache/events?prefix=${'x'.repeat(1025)}`);
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ code: 'invalid_events', error: expect.stringMatching(/at most 1024 bytes/) });
  });

  it('an unknown x-lix-client is ignored: the batch is answered as usual', async () => {
    expect(await batch([{ op: 'get', key: 'nobody' }], 'not-a-channel')).toEqual([{ op: 'get', key: 'nobody', value: null, ttl: null, found: false }]);
  });

  it('feeds an SDK near cache: another client’s write reaches it, and its hits cost no request', async () => {
    const reader = new LixCache({ url: server.url, nearCache: true, maxRetries: 0 });
    const writer = new LixCache({ url: server.url, maxRetries: 0 });
    try {
      await waitFor(() => reader.nearCacheStats()!.live, { what: 'the channel' });
      await writer.set('sdk:k', 'v1');
      expect(await reader.get('sdk:k')).toBe('v1');
      expect(await reader.get('sdk:k')).toBe('v1');
      expect(reader.nearCacheStats()).toMatchObject({ hits: 1, misses: 1 });
      await writer.set('sdk:k', 'v2');
      await waitFor(async () => (await reader.get('sdk:k')) === 'v2', { what: 'the new value' });
      expect(reader.nearCacheStats()!.invalidations).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([reader.close(), writer.close()]);
    }
  });
});

describe('GET /cache/events with auth, and at shutdown', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env: { LIX_API_KEYS: 'events-key' } });
  });
  afterAll(async () => {
    if (server.process.exitCode === null) await server.stop();
  });

  it('needs the API key like every cache path', async () => {
    const refused = await openEvents(server.url);
    expect(refused.status).toBe(401);
    const stream = await openEvents(server.url, '', { authorization: 'Bearer events-key' });
    expect(stream.status).toBe(200);
    stream.close();
  });

  it('a graceful shutdown ends open channels at once instead of waiting for them', async () => {
    const stream = await openEvents(server.url, '', { authorization: 'Bearer events-key' });
    // A channel holding the shutdown open past its timeout would make it exit 1.
    expect(await server.stop()).toBe(0);
    await waitFor(() => stream.ended(), { what: 'the channel to end' });
  });
});
