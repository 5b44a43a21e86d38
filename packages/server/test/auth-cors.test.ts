import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyCheck } from '../src/auth';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { client } from './http-client';

const KEY = 'k-3f9a1c0e6b2d4f8a';
const OTHER_KEY = 'second-key';
const UNAUTHORIZED = {
  error: 'Unauthorized',
  message: 'Send "Authorization: Bearer <key>" with one of the keys in the server\'s LIX_API_KEYS.',
  code: 'unauthorized',
};

describe('API-key auth (LIX_AUTH_ENABLED, LIX_API_KEYS)', () => {
  let server: ServerProcess;
  let call: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startServer({ env: { LIX_AUTH_ENABLED: 'true', LIX_API_KEYS: `${KEY}, ${OTHER_KEY}`, LIX_CORS_ORIGINS: 'https://app.example.com' } });
    call = client(server.url);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('answers 401 {"error":"Unauthorized","message":…} without a key, with a wrong key, or a malformed header', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: KEY }, { authorization: `Basic ${KEY}` }, { authorization: `Bearer ${KEY}x` }] as Record<string, string>[]) {
      for (const [method, path, body] of [
        ['GET', '/cache/get?key=a'],
        ['POST', '/cache/set', { key: 'a', value: 1 }],
        ['GET', '/cache/stats'],
        ['GET', '/metrics'],
        ['POST', '/cache/clear'],
        ['GET', '/no/such/path'],
      ] as const) {
        const answer = await call(method, path, body, headers);
        expect(answer.status, `${method} ${path} with ${JSON.stringify(headers)}`).toBe(401);
        expect(answer.body).toEqual(UNAUTHORIZED);
      }
    }
    expect((await call('GET', '/cache/get?key=a', undefined, { authorization: `Bearer ${KEY}` })).status).toBe(404);
  });

  it('lets every configured key through, scheme case-insensitive', async () => {
    const answer = await call('POST', '/cache/set', { key: 'a', value: 1 }, { authorization: `Bearer ${KEY}` });
    expect(answer).toMatchObject({ status: 200, body: { success: true } });
    expect((await call('GET', '/cache/get?key=a', undefined, { authorization: `bearer ${OTHER_KEY}` })).body).toEqual({ value: 1, ttl: null });
    expect((await call('GET', '/metrics', undefined, { authorization: `Bearer ${OTHER_KEY}` })).status).toBe(200);
  });

  it('never puts /health behind auth', async () => {
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'healthy' } });
  });

  it('answers CORS preflights from listed origins without a key (browsers send none)', async () => {
    const answer = await call('OPTIONS', '/cache/set', undefined, { origin: 'https://app.example.com', 'access-control-request-method': 'POST' });
    expect(answer.status).toBe(204);
  });

  it('compares keys with timingSafeEqual over SHA-256 digests', () => {
    const check = createKeyCheck(['alpha', 'beta-key']);
    expect(check('Bearer alpha')).toBe(true);
    expect(check('Bearer beta-key')).toBe(true);
    expect(check('Bearer alph')).toBe(false);
    expect(check('Bearer alpha2')).toBe(false);
    expect(check('alpha')).toBe(false);
    expect(check(undefined)).toBe(false);
    expect(createKeyCheck.toString()).toContain('timingSafeEqual');
  });
});

describe('CORS (LIX_CORS_ORIGINS)', () => {
  let server: ServerProcess;
  let call: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startServer({ env: { LIX_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' } });
    call = client(server.url);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('answers a preflight from an allowed origin', async () => {
    const answer = await call('OPTIONS', '/cache/set', undefined, {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization',
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(answer.headers.get('access-control-allow-methods')).toContain('POST');
    expect(answer.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(answer.headers.get('vary')).toContain('Origin');
  });

  it('allows listed origins on simple requests and exposes x-request-id', async () => {
    const answer = await call('GET', '/health', undefined, { origin: 'http://localhost:5173' });
    expect(answer.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(answer.headers.get('access-control-expose-headers')).toBe('x-request-id');
  });

  it('refuses other origins with 403 origin_not_allowed and no allow-origin header, writing nothing', async () => {
    const preflight = await call('OPTIONS', '/cache/set', undefined, { origin: 'https://evil.example', 'access-control-request-method': 'POST' });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await call('GET', '/health', undefined, { origin: 'https://evil.example' });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(simple).toMatchObject({ status: 403, body: { code: 'origin_not_allowed', error: expect.stringContaining('LIX_CORS_ORIGINS') } });
    // A simple POST (text/plain, no preflight) is how a page writes without asking: refused before the engine.
    const write = await call('POST', '/cache/set', JSON.stringify({ key: 'planted', value: 1 }), { origin: 'https://evil.example', 'content-type': 'text/plain' });
    expect(write).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    expect((await call('GET', '/cache/get?key=planted')).status).toBe(404);
  });

  it('defaults to no cross-origin access when LIX_CORS_ORIGINS is unset; * is an explicit opt-in', async () => {
    const [closed, open] = await Promise.all([startServer(), startServer({ env: { LIX_CORS_ORIGINS: '*' } })]);
    try {
      const preflight = { origin: 'https://anything.example', 'access-control-request-method': 'GET' };
      const refused = await client(closed.url)('OPTIONS', '/cache/get', undefined, preflight);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      const answer = await client(open.url)('OPTIONS', '/cache/get', undefined, preflight);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await Promise.all([closed.stop(), open.stop()]);
    }
  });
});
