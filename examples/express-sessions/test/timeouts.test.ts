import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { startExample, type ExampleProcess } from './example-process';

// Idle and absolute timeouts with short TTLs, observed by polling (no long fixed sleeps).
let server: ServerProcess;
let idleApp: ExampleProcess;
let absoluteApp: ExampleProcess;

beforeAll(async () => {
  server = await startServer();
  [idleApp, absoluteApp] = await Promise.all([
    // Sessions idle out after 1.5 s without use.
    startExample(server.url, { SESSION_TTL: '1.5' }),
    // Sessions end 2 s after login however active; the idle timeout is long.
    startExample(server.url, { SESSION_TTL: '60', SESSION_ABSOLUTE_TIMEOUT: '2' }),
  ]);
});

afterAll(async () => {
  await Promise.all([idleApp?.stop(), absoluteApp?.stop()]);
  await server?.stop();
});

async function login(url: string): Promise<CookieClient> {
  const client = new CookieClient(url);
  expect((await client.post('/api/login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
  return client;
}

describe('idle timeout', () => {
  it('slides while the session is used, then expires and the cookie is cleared', async () => {
    const client = await login(idleApp.url);
    // Used every 300 ms for 3 s (twice the idle timeout): each use slides it.
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      expect((await client.get('/api/profile')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Left alone, it expires; the app answers 401 and clears the cookie.
    const expired = await waitFor(
      async () => {
        const probe = client.clone();
        const response = await probe.get('/api/profile');
        return response.status === 401 ? response : undefined;
      },
      // Polls 2 s apart: a probe that still finds the session slides it again.
      { timeoutMs: 8000, intervalMs: 2000, what: 'the idle session to expire' },
    );
    expect(cookieAttributes(expired.setCookies, 'lix.sid')!['max-age']).toBe('0');
    expect(expired.body).toEqual({ error: 'Not authenticated' });
  });
});

describe('absolute timeout', () => {
  it('ends an active session at its absolute lifetime, counted from login', async () => {
    const client = await login(absoluteApp.url);
    const started = Date.now();
    const expired = await waitFor(
      async () => {
        const response = await client.get('/api/profile'); // keeps it active all along
        return response.status === 401 ? response : undefined;
      },
      { timeoutMs: 8000, intervalMs: 200, what: 'the absolute timeout' },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(cookieAttributes(expired.setCookies, 'lix.sid')!['max-age']).toBe('0');
    // The cookie's own lifetime matches the absolute timeout.
    const again = new CookieClient(absoluteApp.url);
    const relogin = await again.post('/api/login', { username: 'alice', password: 'wonderland' });
    expect(cookieAttributes(relogin.setCookies, 'lix.sid')!['max-age']).toBe('2');
  });
});
