import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { client } from './http-client';

// GET /cache/get?key=K is answered by a node:http fast lane (src/fast-get.ts); a request
// with an Origin header, any other parameter, or at debug log level goes through fastify.
// Both must answer byte for byte alike.
describe('the GET fast lane answers exactly as the fastify route does', () => {
  let lane: ServerProcess;
  let debug: ServerProcess;

  beforeAll(async () => {
    [lane, debug] = await Promise.all([startServer({ env: { LIX_CORS_ORIGINS: 'http://example.test' } }), startServer({ env: { LOG_LEVEL: 'debug' } })]);
    for (const server of [lane, debug]) {
      const call = client(server.url);
      await call('POST', '/cache/set', { key: 'user:1', value: { name: 'Ada', tags: ['a', 'ü'] } });
      await call('POST', '/cache/set', { key: 'a b+c/ü', value: 'spaced' });
      await call('POST', '/cache/set', { key: 'nothing', value: null });
    }
  });
  afterAll(async () => {
    await Promise.all([lane.stop(), debug.stop()]);
  });

  const paths = ['/cache/get?key=user:1', '/cache/get?key=a+b%2Bc%2F%C3%BC', '/cache/get?key=nothing', '/cache/get?key=missing', '/cache/get?key=', '/cache/get?key=%E0%A4%A'];

  it('same status, body and content type with and without the lane', async () => {
    for (const path of paths) {
      const viaLane = await client(lane.url)('GET', path);
      const viaFastify = await client(lane.url)('GET', path, undefined, { origin: 'http://example.test' });
      const atDebug = await client(debug.url)('GET', path);
      for (const other of [viaFastify, atDebug]) {
        expect({ path, status: other.status, text: other.text }).toEqual({ path, status: viaLane.status, text: viaLane.text });
        expect(other.headers.get('content-type')).toBe(viaLane.headers.get('content-type'));
      }
    }
    expect((await client(lane.url)('GET', paths[0]!)).body).toEqual({ value: { name: 'Ada', tags: ['a', 'ü'] }, ttl: null });
    expect((await client(lane.url)('GET', paths[1]!)).body).toEqual({ value: 'spaced', ttl: null });
    expect((await client(lane.url)('GET', paths[3]!))).toMatchObject({ status: 404, body: { error: 'not found' } });
  });

  it('echoes a request id and counts the read in stats and /metrics', async () => {
    const call = client(lane.url);
    const before = (await call('GET', '/cache/stats')).body.stats;
    const answer = await call('GET', '/cache/get?key=user:1', undefined, { 'x-request-id': 'trace-123' });
    expect(answer.headers.get('x-request-id')).toBe('trace-123');
    expect((await call('GET', '/cache/get?key=user:1')).headers.get('x-request-id')).toMatch(/^[\w-]+-[0-9a-z]+$/);
    const after = (await call('GET', '/cache/stats')).body.stats;
    expect(after.hits - before.hits).toBe(2);
    const metrics = (await call('GET', '/metrics')).text;
    expect(metrics).toMatch(/lix_operations_total\{op="get"\} [1-9]\d*/);
    expect(metrics).toMatch(/lix_http_request_duration_seconds_count [1-9]\d*/);
  });
});
