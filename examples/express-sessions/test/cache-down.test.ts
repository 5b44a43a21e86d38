import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { startExample, type ExampleProcess } from './example-process';

// The Lix server stops mid-test: requests that need a session fail closed with 503,
// and the app recovers once a server is back on the same port.
let server: ServerProcess | undefined;
let app: ExampleProcess;

beforeAll(async () => {
  server = await startServer();
  app = await startExample(server.url);
});

afterAll(async () => {
  await app?.stop();
  await server?.stop();
});

describe('when the cache is down', () => {
  it('answers 503 with a clear message, never 200 as nobody, and recovers', async () => {
    const alice = new CookieClient(app.url);
    expect((await alice.post('/api/login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
    expect((await alice.get('/api/profile')).status).toBe(200);

    const port = server!.port;
    await server!.stop();
    server = undefined;

    for (const path of ['/api/profile', '/api/sessions', '/api/preferences']) {
      const response = await alice.get(path);
      expect(response.status).toBe(503);
      expect(response.body.error).toBe('Session store unavailable');
      expect(response.body.message).toMatch(/try again/i);
      expect(response.headers.get('retry-after')).toBe('5');
    }
    // The session cookie survives a 503: nothing is cleared while the store cannot answer.
    expect(alice.cookies.has('lix.sid')).toBe(true);
    expect((await alice.put('/api/preferences/theme', { theme: 'dark' })).status).toBe(503);
    const login = await new CookieClient(app.url).post('/api/login', { username: 'bob', password: 'builder' });
    expect(login.status).toBe(503);
    expect(login.body.error).toBe('Session store unavailable');
    // Without a session cookie nothing needs the store: still a plain 401, and the app is alive.
    expect((await new CookieClient(app.url).get('/api/profile')).status).toBe(401);
    expect((await fetch(`${app.url}/health`)).status).toBe(200);

    // A server comes back on the same port (an empty in-memory one: old sessions are gone).
    server = await startServer({ port });
    const back = await waitFor(async () => {
      const response = await alice.get('/api/profile');
      return response.status !== 503 ? response : undefined;
    }, { what: 'the app to reach the cache again' });
    expect(back!.status).toBe(401);
    expect(alice.cookies.has('lix.sid')).toBe(false);
    expect((await alice.post('/api/login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
    expect((await alice.get('/api/profile')).body.username).toBe('alice');
  });
});
