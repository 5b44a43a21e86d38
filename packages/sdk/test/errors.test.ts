import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/free-port';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import {
  LixAuthError,
  LixCacheError,
  LixConnectionError,
  LixNotFoundError,
  LixTimeoutError,
  LixTypeError,
  LixValidationError,
  LixCache,
} from '../src/index';
import { startCountingProxy, type CountingProxy } from './helpers/counting-proxy';

describe('errors and retries against a real server', () => {
  let server: ServerProcess;
  let proxy: CountingProxy;
  const clients: LixCache[] = [];
  const client = (config: ConstructorParameters<typeof LixCache>[0] = {}) => {
    const cache = new LixCache({ url: proxy.url, retryDelay: 5, ...config });
    clients.push(cache);
    return cache;
  };
  const direct = () => {
    const cache = new LixCache({ url: server.url });
    clients.push(cache);
    return cache;
  };

  beforeAll(async () => {
    server = await startServer();
    proxy = await startCountingProxy(server.url);
  });
  afterAll(async () => {
    await Promise.all(clients.map((cache) => cache.close()));
    await proxy.close();
    expect(await server.stop()).toBe(0);
  });

  it('connection refused: LixConnectionError after the retries, each one a new attempt', async () => {
    const port = await freePort();
    const cache = new LixCache({ url: `http://127.0.0.1:${port}`, maxRetries: 2, retryDelay: 1 });
    clients.push(cache);
    const error = await cache.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixConnectionError);
    expect(error).toBeInstanceOf(LixCacheError);
    expect((error as LixConnectionError).code).toBe('connection_failed');
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as Error).message).toMatch(/lix-cache-server|url/);
    // Refused means never sent, so even incr is retried there, and still fails cleanly.
    await expect(cache.incr('n')).rejects.toBeInstanceOf(LixConnectionError);
    // The retries really happen: a server that comes up during them is reached.
    const late = new LixCache({ url: `http://127.0.0.1:${port}`, maxRetries: 8, retryDelay: 50 });
    clients.push(late);
    const pending = late.incr('late');
    const lateServer = await startServer({ port });
    try {
      expect(await pending).toBe(1);
    } finally {
      await lateServer.stop();
    }
  });

  it('timeout: LixTimeoutError when the server does not answer in time', async () => {
    proxy.reset();
    proxy.hang = true;
    try {
      const cache = client({ timeout: 150, maxRetries: 1 });
      const error = await cache.get('k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LixTimeoutError);
      expect((error as Error).message).toMatch(/150 ms/);
      // a get is safe to repeat: tried twice
      expect(proxy.batches).toEqual([1, 1]);
      proxy.reset();
      await expect(cache.incr('n')).rejects.toBeInstanceOf(LixTimeoutError);
      // an incr that may have reached the server is never repeated
      expect(proxy.batches).toEqual([1]);
    } finally {
      proxy.hang = false;
    }
  });

  it('incr whose response is lost is not retried: the server counted it exactly once', async () => {
    const cache = client();
    proxy.reset();
    proxy.dropResponses = 1;
    await expect(cache.incr('counter')).rejects.toBeInstanceOf(LixConnectionError);
    expect(proxy.batches).toEqual([1]);
    expect(await direct().get('counter')).toBe(1);

    // a conditional set is not repeated either
    proxy.reset();
    proxy.dropResponses = 1;
    await expect(cache.set('once', 'a', { nx: true })).rejects.toBeInstanceOf(LixConnectionError);
    expect(proxy.batches).toEqual([1]);

    // a batch holding an incr is not repeated, even with safe commands beside it
    proxy.reset();
    proxy.dropResponses = 1;
    const results = await Promise.allSettled([cache.get('counter'), cache.incr('counter')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(proxy.batches).toEqual([2]);
    expect(await direct().get('counter')).toBe(2);
  });

  it('a get whose response is lost is retried and succeeds', async () => {
    await direct().set('safe', 'value');
    const cache = client();
    proxy.reset();
    proxy.dropResponses = 1;
    expect(await cache.get('safe')).toBe('value');
    expect(proxy.batches).toEqual([1, 1]);
  });

  it('non_numeric from the server is a LixTypeError', async () => {
    await direct().set('word', 'abc');
    const error = await client().incr('word').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixTypeError);
    expect((error as LixTypeError).code).toBe('non_numeric');
  });

  it('invalid input fails locally, without a request', async () => {
    const cache = client();
    proxy.reset();
    const error = await cache.set('', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixValidationError);
    expect((error as LixValidationError).code).toBe('invalid_key');
    expect((error as LixValidationError).issues[0]!.message).toMatch(/key/);
    await expect(cache.expire('k', -5)).rejects.toBeInstanceOf(LixValidationError);
    await expect(cache.scan({ limit: 0 })).rejects.toBeInstanceOf(LixValidationError);
    expect(proxy.total()).toBe(0);
  });

  it('get checks its input exactly as the command language does (same code and message), as a rejection, not a throw', async () => {
    const cache = client();
    proxy.reset();
    const inputs: [unknown, unknown][] = [['', undefined], [123, undefined], ['__proto__', undefined], ['k', -1], ['k', 'soon'], [undefined, 60]];
    for (const [key, touch] of inputs) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = cache.get(key as string, { touch: touch as number }))).not.toThrow();
      const error = (await promise!.catch((e: unknown) => e)) as LixValidationError;
      const [result] = await cache.batch([{ op: 'get', key, touch } as never]);
      expect(error).toBeInstanceOf(LixValidationError);
      expect({ code: error.code, message: error.message }).toEqual((result as { error: unknown }).error);
    }
    expect(proxy.total()).toBe(0);
  });

  it('limits are the server’s: a too-long key is refused by the server with its message', async () => {
    const error = await client().set('k'.repeat(2000), 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixValidationError);
    expect((error as LixValidationError).code).toBe('key_too_long');
    expect((error as Error).message).toMatch(/LIX_MAX_KEY_BYTES/);
  });

  it('a URL that is not a Lix Cache server: LixNotFoundError', async () => {
    const cache = new LixCache({ url: `${server.url}/not-here` });
    clients.push(cache);
    await expect(cache.get('k')).rejects.toBeInstanceOf(LixNotFoundError);
  });

  it('a closed client refuses further calls', async () => {
    const cache = direct();
    await cache.close();
    const error = await cache.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixCacheError);
    expect((error as LixCacheError).code).toBe('closed');
  });
});

describe('auth', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env: { LIX_AUTH_ENABLED: 'true', LIX_API_KEYS: 'key-one,key-two' } });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('without a key: LixAuthError telling how to fix it, not retried', async () => {
    const cache = new LixCache({ url: server.url });
    const error = await cache.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixAuthError);
    expect((error as LixAuthError).code).toBe('unauthorized');
    expect((error as Error).message).toMatch(/apiKey|LIX_CACHE_API_KEY/);
    await cache.close();
  });

  it('with a wrong key: LixAuthError', async () => {
    const cache = new LixCache({ url: server.url, apiKey: 'wrong' });
    await expect(cache.set('k', 1)).rejects.toBeInstanceOf(LixAuthError);
    await expect(cache.stats()).rejects.toBeInstanceOf(LixAuthError);
    await cache.close();
  });

  it('with a right key (option or LIX_CACHE_API_KEY) it works; health needs no key', async () => {
    const cache = new LixCache({ url: server.url, apiKey: 'key-two' });
    expect(await cache.set('k', 1)).toBe(true);
    expect(await cache.get('k')).toBe(1);
    expect((await cache.stats()).size).toBe(1);
    await cache.close();
    process.env.LIX_CACHE_API_KEY = 'key-one';
    try {
      const fromEnv = new LixCache({ url: server.url });
      expect(await fromEnv.get('k')).toBe(1);
      await fromEnv.close();
    } finally {
      delete process.env.LIX_CACHE_API_KEY;
    }
    const anonymous = new LixCache({ url: server.url });
    expect(await anonymous.health()).toEqual({ ok: true, status: 'healthy' });
    await anonymous.close();
  });
});

describe('redis:// when Redis is not there', () => {
  it('commands fail with LixConnectionError, health says why', async () => {
    const cache = new LixCache({ url: `redis://127.0.0.1:${await freePort()}`, timeout: 1000 });
    const error = await cache.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LixConnectionError);
    expect((error as Error).message).toMatch(/127\.0\.0\.1/);
    expect(await cache.health()).toMatchObject({ ok: false, status: 'unhealthy' });
    await cache.close();
  });
});

describe('health when down', () => {
  it('resolves { ok: false } with the reason instead of throwing', async () => {
    const cache = new LixCache({ url: `http://127.0.0.1:${await freePort()}` });
    const health = await cache.health();
    expect(health).toMatchObject({ ok: false, status: 'unhealthy', message: expect.stringMatching(/ECONNREFUSED/) });
    await cache.close();
  });
});
