import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config';
import { fetchClient } from '../src/transports/http-client';
import { HttpTransport } from '../src/transports/http';
import { LixCache, LixCacheError, LixResponseTooLargeError, LixServerError } from '../src/index';

/**
 * A server that misbehaves: a real node:http server on a free port whose answer
 * each test sets. The client must reject every bad answer with a typed error,
 * never crash or hang the host process, and work for the next call.
 */

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** What the endless answer writes at most: far above any cap below, bounded so a broken client cannot make the test hang. */
const STREAM_LIMIT = 64 * 1024 * 1024;

describe('a misbehaving server', () => {
  let server: Server;
  let url: string;
  let handler: Handler;
  const requests: string[] = [];
  const clients: LixCache[] = [];
  const faults: unknown[] = [];
  const onFault = (error: unknown) => faults.push(error);

  /** Answers what a Lix Cache server would: a get of "ok" finds "fine". */
  const sane: Handler = (_request, body, response) => {
    const { operations } = JSON.parse(body) as { operations: { op: string; key?: string }[] };
    const results = operations.map((command) =>
      command.op === 'get' ? { op: 'get', key: command.key, value: 'fine', ttl: null, found: true } : { op: command.op, error: { code: 'invalid_command', message: 'only get here' } },
    );
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
  };
  const json = (value: unknown): Handler => (_request, _body, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
  const client = (config: ConstructorParameters<typeof LixCache>[0] = {}) => {
    const cache = new LixCache({ url, maxRetries: 0, ...config });
    clients.push(cache);
    return cache;
  };

  /** How many bytes the last endless answer wrote before the client hung up. */
  let streamed = 0;
  /** Writes `{"results":[{"op":"get",...,"value":"xxxx...` until the client hangs up (or STREAM_LIMIT), honouring backpressure. */
  const endless = (headers: Record<string, string | number> = {}): Handler => (_request, _body, response) => {
    streamed = 0;
    let closed = false;
    response.on('close', () => (closed = true));
    response.writeHead(200, { 'content-type': 'application/json', ...headers });
    response.write('{"results":[{"op":"get","key":"big","ttl":null,"found":true,"value":"');
    const pump = () => {
      while (!closed && streamed < STREAM_LIMIT) {
        streamed += CHUNK.length;
        if (!response.write(CHUNK)) return void response.once('drain', pump);
      }
      if (!closed) response.end('"}]}');
    };
    pump();
  };

  beforeAll(async () => {
    process.on('uncaughtException', onFault);
    process.on('unhandledRejection', onFault);
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        requests.push(body);
        handler(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    requests.length = 0;
    expect(faults).toEqual([]);
  });
  afterAll(async () => {
    await Promise.all(clients.map((cache) => cache.close()));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    process.off('uncaughtException', onFault);
    process.off('unhandledRejection', onFault);
  });

  describe('a response larger than maxResponseBytes', () => {
    it('node:http client: stops reading at the cap, rejects with LixResponseTooLargeError naming the option, and works for the next call', async () => {
      const cache = client({ maxResponseBytes: 1024 * 1024 });
      handler = endless();
      const error = await cache.get('big').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LixResponseTooLargeError);
      expect(error).toBeInstanceOf(LixCacheError);
      expect((error as LixCacheError).code).toBe('response_too_large');
      expect((error as Error).message).toMatch(/maxResponseBytes \(1048576\)/);
      expect((error as Error).message).toMatch(/raise the "maxResponseBytes" option/);
      // The client hung up near the cap: it read no further than a few socket buffers past it.
      expect(streamed).toBeLessThan(STREAM_LIMIT);
      handler = sane;
      expect(await cache.get('ok')).toBe('fine');
    });

    it('node:http client: a Content-Length over the cap is refused before the body is read', async () => {
      const cache = client({ maxResponseBytes: 1024 * 1024 });
      // Announces 700 MB, the size that crashed the host process with an uncaught RangeError.
      handler = endless({ 'content-length': 700 * 1024 * 1024 });
      const error = await cache.get('big').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LixResponseTooLargeError);
      expect((error as Error).message).toMatch(/734003200 bytes, over this client's maxResponseBytes \(1048576\)/);
      handler = sane;
      expect(await cache.get('ok')).toBe('fine');
    });

    it('the commands batched with it all reject with it; none is retried into a second huge read', async () => {
      const cache = client({ maxResponseBytes: 256 * 1024, maxRetries: 3, retryDelay: 1 });
      handler = endless();
      const outcomes = await Promise.allSettled([cache.get('a'), cache.get('b'), cache.exists('c')]);
      expect(requests).toHaveLength(1);
      for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(LixResponseTooLargeError);
      handler = sane;
      expect(await cache.get('ok')).toBe('fine');
    });

    it('fetch client (browsers): the same cap while streaming, the same typed error', async () => {
      const transport = new HttpTransport(resolveConfig({ url, maxResponseBytes: 1024 * 1024, maxRetries: 0 }), fetchClient);
      try {
        const get = JSON.stringify({ op: 'get', key: 'big' });
        handler = endless();
        const error = await transport.execute([get], true).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LixResponseTooLargeError);
        expect((error as Error).message).toMatch(/maxResponseBytes \(1048576\)/);
        expect(streamed).toBeLessThan(STREAM_LIMIT);
        handler = endless({ 'content-length': 700 * 1024 * 1024 });
        await expect(transport.execute([get], true)).rejects.toBeInstanceOf(LixResponseTooLargeError);
        handler = sane;
        expect(await transport.execute([JSON.stringify({ op: 'get', key: 'ok' })], true)).toEqual([{ op: 'get', key: 'ok', value: 'fine', ttl: null, found: true }]);
      } finally {
        await transport.close();
      }
    });

    it('the server’s own 413 response_too_large (its LIX_MAX_RESPONSE_BYTES) is the same typed error, with its status', async () => {
      const cache = client();
      handler = (_request, _body, response) => {
        response.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'The answer would pass 67108864 bytes. Raise LIX_MAX_RESPONSE_BYTES.', code: 'response_too_large' }));
      };
      const error = await cache.scan({ prefix: 'p', limit: 10 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LixResponseTooLargeError);
      expect((error as LixResponseTooLargeError).status).toBe(413);
      expect((error as Error).message).toMatch(/LIX_MAX_RESPONSE_BYTES/);
    });

    it('the option is checked: a whole number from 1 to the longest string JavaScript holds', () => {
      for (const bad of [0, -1, 1.5, '1mb', 2 ** 30]) {
        expect(() => new LixCache({ url, maxResponseBytes: bad as number })).toThrow(/"maxResponseBytes" must be a whole number from 1 to 536870888/);
      }
    });
  });

  describe('a repeating scan cursor', () => {
    /** Answers every scan with one key and `cursors[n]` for the n-th page; null after 50 pages, so a client that follows a loop still ends. */
    const pager = (cursors: (n: number) => string | null): Handler => {
      let n = 0;
      return (_request, _body, response) => {
        const cursor = n < 50 ? cursors(n) : null;
        n++;
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [{ op: 'scan', keys: [`k${n}`], count: 1, cursor }] }));
      };
    };

    it('scan() walking every page rejects when the server hands back the same cursor', async () => {
      const cache = client();
      handler = pager(() => 'stuck');
      const error = await cache.scan('user:', { keysOnly: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LixServerError);
      expect((error as LixServerError).code).toBe('invalid_response');
      expect((error as Error).message).toMatch(/scan cursor "stuck" a second time in one walk \(a repeating cursor\)/);
      expect(requests).toHaveLength(2);
      handler = sane;
      expect(await cache.get('ok')).toBe('fine');
    });

    it('scanAll rejects on a cycle of cursors, and on the cursor it was started from', async () => {
      const cache = client();
      handler = pager((n) => ['a', 'b', 'c'][n % 3]!);
      const seen: string[] = [];
      const error = await (async () => {
        for await (const key of cache.scanAll({ keysOnly: true, limit: 1 })) seen.push(key);
      })().catch((e: unknown) => e);
      expect((error as LixServerError).code).toBe('invalid_response');
      expect((error as Error).message).toMatch(/scan cursor "a" a second time/);
      expect(seen).toEqual(['k1', 'k2', 'k3']);

      handler = pager(() => 'start');
      const again = await (async () => {
        for await (const key of cache.scanAll({ keysOnly: true, cursor: 'start' })) void key;
      })().catch((e: unknown) => e);
      expect((again as Error).message).toMatch(/scan cursor "start" a second time/);
    });

    it('one page asked for by cursor is the caller’s walk: returned as is', async () => {
      const cache = client();
      handler = pager(() => 'same');
      expect(await cache.scan({ cursor: 'same', keysOnly: true })).toEqual({ keys: ['k1'], count: 1, cursor: 'same' });
    });
  });

  describe('malformed results', () => {
    const cases: { what: string; answer: unknown; call: (cache: LixCache) => Promise<unknown>; says: RegExp }[] = [
      { what: 'results: [null]', answer: { results: [null] }, call: (c) => c.get('k'), says: /null as the result of a get/ },
      { what: 'a number as a result', answer: { results: [42] }, call: (c) => c.exists('k'), says: /42 as the result of an? exists/ },
      { what: 'results that are not an array', answer: { results: 'nope' }, call: (c) => c.get('k'), says: /without a "results" array/ },
      { what: 'no body fields at all', answer: null, call: (c) => c.get('k'), says: /without a "results" array/ },
      { what: 'two results for one command', answer: { results: [{ op: 'get', key: 'k', value: 1 }, { op: 'get', key: 'k', value: 1 }] }, call: (c) => c.get('k'), says: /2 results for 1 commands/ },
      { what: 'a get without value', answer: { results: [{ op: 'get', key: 'k' }] }, call: (c) => c.get('k'), says: /"value" is not a JSON value/ },
      { what: 'another op’s result', answer: { results: [{ op: 'set', key: 'k', success: true }] }, call: (c) => c.get('k'), says: /as the result of a get/ },
      { what: 'exists as a string', answer: { results: [{ op: 'exists', key: 'k', exists: 'yes' }] }, call: (c) => c.exists('k'), says: /"exists" is not true or false/ },
      { what: 'incr with a string value', answer: { results: [{ op: 'incr', key: 'n', value: '1' }] }, call: (c) => c.incr('n'), says: /"value" is not a number/ },
      { what: 'delete with a numeric deleted', answer: { results: [{ op: 'delete', key: 'k', success: true, deleted: 1 }] }, call: (c) => c.delete('k'), says: /"deleted" is not true or false/ },
      { what: 'clear without a count', answer: { results: [{ op: 'clear', success: true }] }, call: (c) => c.clear(), says: /"cleared" is not a number/ },
      { what: 'an error result without a code', answer: { results: [{ op: 'get', key: 'k', error: { message: 'x' } }] }, call: (c) => c.get('k'), says: /error result without a string "code"/ },
      { what: 'an error that is a string', answer: { results: [{ op: 'get', key: 'k', error: 'boom' }] }, call: (c) => c.get('k'), says: /error result without a string "code"/ },
      { what: 'scan items that are not objects', answer: { results: [{ op: 'scan', items: [null], count: 1, cursor: null }] }, call: (c) => c.scan('p'), says: /"items" is not an array of \{ key, value, ttl \}/ },
      { what: 'scan keys that are not strings', answer: { results: [{ op: 'scan', keys: [1], count: 1, cursor: null }] }, call: (c) => c.scan('p', { keysOnly: true }), says: /"keys" is not an array of strings/ },
      { what: 'a scan cursor that is a number', answer: { results: [{ op: 'scan', keys: [], count: 0, cursor: 7 }] }, call: (c) => c.scan('p', { keysOnly: true }), says: /"cursor" is not a string or null/ },
      { what: 'batch() with a null result', answer: { results: [null] }, call: (c) => c.batch([{ op: 'get', key: 'k' }]), says: /null as a command's result/ },
    ];

    it.each(cases)('$what: LixServerError invalid_response saying the SDK cannot read it; the next call works', async ({ answer, call, says }) => {
      const cache = client();
      handler = json(answer);
      const error = await call(cache).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LixServerError);
      expect((error as LixServerError).code).toBe('invalid_response');
      expect((error as Error).message).toMatch(says);
      expect((error as Error).message).toMatch(/cannot read/);
      expect((error as Error).message).toMatch(/lix-cache-server and lix-cache-sdk are of the same release/);
      handler = sane;
      expect(await cache.get('ok')).toBe('fine');
    });

    it('a malformed result fails only its own command; the batch’s others resolve', async () => {
      const cache = client();
      handler = json({ results: [{ op: 'get', key: 'a', value: 'A', ttl: null, found: true }, null, { op: 'exists', key: 'c', exists: true }] });
      const [a, b, c] = await Promise.allSettled([cache.get('a'), cache.get('b'), cache.exists('c')]);
      expect(a).toEqual({ status: 'fulfilled', value: 'A' });
      expect((b as PromiseRejectedResult).reason).toBeInstanceOf(LixServerError);
      expect(c).toEqual({ status: 'fulfilled', value: true });
    });
  });
});
