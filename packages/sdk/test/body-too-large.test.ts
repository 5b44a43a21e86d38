import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { LixCache, LixValidationError } from '../src/index';

// A body over LIX_MAX_BODY_BYTES is refused with 413 while the client is still sending it. The server
// reads the rest (and throws it away) before it lets go of the connection, so the client reads the 413
// instead of a connection reset ("could not reach the server").
describe('a body over the limit: clients read the 413, not a reset', () => {
  let server: ServerProcess;
  const caches: LixCache[] = [];

  beforeAll(async () => {
    server = await startServer({ env: { LIX_MAX_BODY_BYTES: '64kb' } });
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    expect(await server.stop()).toBe(0);
  });

  it("Node's fetch gets the 413 and its message, 20 times out of 20", async () => {
    // 4 MiB: far more than the socket buffers hold, so the client is mid-upload when the 413 is sent.
    const body = JSON.stringify({ key: 'big', value: 'x'.repeat(4 * 1024 * 1024) });
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${server.url}/cache/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(413);
      const answer = (await response.json()) as { code: string; error: string };
      expect(answer.code).toBe('body_too_large');
      expect(answer.error).toMatch(/larger than 65536 bytes.*LIX_MAX_BODY_BYTES/);
    }
    // The server still answers.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('the SDK rejects with the typed error carrying the limit, never LixConnectionError', async () => {
    const cache = new LixCache({ url: server.url, maxRetries: 0 });
    caches.push(cache);
    // Each value is under the SDK's own 1 MiB value limit; the four of one tick go out as one batch of
    // about 4 MiB, far over the server's 64 KiB body limit, so the SDK is mid-upload when the 413 comes.
    const value = 'y'.repeat(1000 * 1024);
    for (let i = 0; i < 20; i++) {
      const outcomes = await Promise.allSettled([0, 1, 2, 3].map((j) => cache.set(`big:${i}:${j}`, value)));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as Error;
        expect({ name: error.name, message: error.message }).toMatchObject({ name: 'LixValidationError', message: expect.stringMatching(/LIX_MAX_BODY_BYTES/) });
        expect(error).toBeInstanceOf(LixValidationError);
        expect((error as LixValidationError).code).toBe('body_too_large');
      }
    }
    await cache.set('small', 1);
    expect(await cache.get('small')).toBe(1);
  });
});
