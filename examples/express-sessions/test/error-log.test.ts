import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { startExample, type ExampleProcess } from './example-process';

// Every response with status >= 500 is logged once, at error level, as JSON on stdout (the
// default when stdout is not a terminal): method, path, status, and the error with its cause.

interface LogLine {
  level: number;
  msg: string;
  method?: string;
  path?: string;
  status?: number;
  err?: { type: string; message: string; stack: string };
}

const ERROR = 50; // pino's error level

/** EXAMPLE_WRITE_DELAY_MS: the cart route waits this long before it changes the session, time enough to stop the cache. */
const WRITE_DELAY_MS = 1500;

let server: ServerProcess | undefined;
let app: ExampleProcess;
let alice: CookieClient;

beforeAll(async () => {
  server = await startServer();
  // LOG_FORMAT empty = unset (hermetic even when the developer's shell sets it): JSON, as stdout is a pipe.
  app = await startExample(server.url, { LOG_FORMAT: '', EXAMPLE_WRITE_DELAY_MS: String(WRITE_DELAY_MS) });
  alice = new CookieClient(app.url);
  expect((await alice.post('/api/login', { username: 'alice', password: 'wonderland' })).status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
  await server?.stop();
});

function logLines(): LogLine[] {
  return app
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

const errorsFor = (method: string, path: string) => logLines().filter((line) => line.level === ERROR && line.method === method && line.path === path);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// In order: the first stops the cache.
describe('the example logs each 5xx with its cause', () => {
  it('a session change that cannot be saved (the cache stopped during the request): its 503 is logged once, with the error', async () => {
    expect(logLines().filter((line) => line.level >= ERROR)).toEqual([]);
    const adding = alice.post('/api/cart', { item: 'book' });
    await sleep(WRITE_DELAY_MS / 5); // the session is loaded; the route waits before it changes it
    await server!.stop();
    server = undefined;
    expect((await adding).status).toBe(503);
    await waitFor(() => errorsFor('POST', '/api/cart').length > 0, { what: 'the cart 503 log line' });
    expect(errorsFor('POST', '/api/cart')).toEqual([
      expect.objectContaining({ status: 503, msg: 'POST /api/cart answered 503', err: expect.objectContaining({ type: 'LixConnectionError', message: expect.stringContaining('ECONNREFUSED') }) }),
    ]);
    expect(app.logs()).not.toContain('a session change was not saved'); // lixSession's default console.error is replaced
  });

  it('with the cache down: a login answered 503 is logged once with the SDK error and the ECONNREFUSED under it; a session answered 503 once too', async () => {

    // req.login() fails in the route: sessionErrorHandler() answers 503.
    const login = await new CookieClient(app.url).post('/api/login?from=test', { username: 'bob', password: 'builder' });
    expect(login.status).toBe(503);
    await waitFor(() => errorsFor('POST', '/api/login').length > 0, { what: 'the login 503 log line' });
    const [line] = errorsFor('POST', '/api/login');
    expect(line).toMatchObject({ level: ERROR, method: 'POST', path: '/api/login', status: 503, msg: 'POST /api/login answered 503' });
    expect(line!.err).toMatchObject({ type: 'LixConnectionError' });
    expect(line!.err!.message).toMatch(/: connect ECONNREFUSED 127\.0\.0\.1:\d+$/); // the cause's message, after the SDK's
    expect(line!.err!.stack).toMatch(/\ncaused by: Error: connect ECONNREFUSED 127\.0\.0\.1:\d+\n/);

    // lixSession() cannot load alice's session and answers 503 itself.
    expect((await alice.get('/api/profile')).status).toBe(503);
    await waitFor(() => errorsFor('GET', '/api/profile').length > 0, { what: 'the profile 503 log line' });
    expect(errorsFor('GET', '/api/profile')).toEqual([
      expect.objectContaining({ status: 503, msg: 'GET /api/profile answered 503', err: expect.objectContaining({ type: 'LixConnectionError', message: expect.stringContaining('ECONNREFUSED') }) }),
    ]);

    // Lines are written in order: once a later request's line is there, no second line of the earlier ones can follow.
    expect((await alice.get('/api/sessions')).status).toBe(503);
    await waitFor(() => errorsFor('GET', '/api/sessions').length > 0, { what: 'the sessions 503 log line' });
    expect(errorsFor('POST', '/api/login')).toHaveLength(1);
    expect(errorsFor('GET', '/api/profile')).toHaveLength(1);
    expect(errorsFor('POST', '/api/cart')).toHaveLength(1);
    expect(logLines().filter((line) => line.level >= ERROR)).toHaveLength(4);
  });
});
