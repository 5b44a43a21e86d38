import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { client } from './http-client';

// Part 1 of spec/http-api.md, one test per row of the compatibility table, against
// the real CLI over real HTTP. Bodies are compared whole: Part 2 may only add fields.

let server: ServerProcess;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startServer();
  call = client(server.url);
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe('Part 1: compatibility table', () => {
  it('POST /cache/set stores a value, with or without ttl', async () => {
    expect(await call('POST', '/cache/set', { key: 'set:a', value: { name: 'Ada' } })).toMatchObject({ status: 200, body: { success: true } });
    expect((await call('POST', '/cache/set', { key: 'set:b', value: 'x', ttl: 60 })).body).toEqual({ success: true });
    expect((await call('POST', '/cache/set', { key: 'set:c', value: 1, ttl: 0 })).body).toEqual({ success: true });
    expect((await call('GET', '/cache/get?key=set:a')).body).toEqual({ value: { name: 'Ada' }, ttl: null });
  });

  it('GET /cache/get returns the value; missing and expired keys are 404 {"error":"not found"}', async () => {
    await call('POST', '/cache/set', { key: 'get:a', value: [1, 'two', { three: 3 }] });
    expect(await call('GET', '/cache/get?key=get:a')).toMatchObject({ status: 200, body: { value: [1, 'two', { three: 3 }], ttl: null } });

    const missing = await call('GET', '/cache/get?key=get:missing');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not found' });

    await call('POST', '/cache/set', { key: 'get:short', value: 'soon gone', ttl: 0.2 });
    expect((await call('GET', '/cache/get?key=get:short')).status).toBe(200);
    await waitFor(async () => (await call('GET', '/cache/get?key=get:short')).status === 404, { what: 'get:short to expire' });
    expect((await call('GET', '/cache/get?key=get:short')).body).toEqual({ error: 'not found' });
  });

  it('GET /cache/get tells a stored null from a missing key', async () => {
    await call('POST', '/cache/set', { key: 'get:null', value: null });
    expect(await call('GET', '/cache/get?key=get:null')).toMatchObject({ status: 200, body: { value: null, ttl: null } });
  });

  it('DELETE /cache/delete answers {"success":true}, also for a missing key', async () => {
    await call('POST', '/cache/set', { key: 'del:a', value: 1 });
    expect(await call('DELETE', '/cache/delete?key=del:a')).toMatchObject({ status: 200, body: { success: true } });
    expect((await call('DELETE', '/cache/delete?key=del:a')).body).toEqual({ success: true });
    expect((await call('GET', '/cache/get?key=del:a')).status).toBe(404);
  });

  it('POST /cache/incr: absent key starts at 0, amount defaults to 1', async () => {
    expect((await call('POST', '/cache/incr', { key: 'incr:a' })).body).toEqual({ value: 1 });
    expect((await call('POST', '/cache/incr', { key: 'incr:a', amount: 5 })).body).toEqual({ value: 6 });
    expect((await call('GET', '/cache/get?key=incr:a')).body).toEqual({ value: 6, ttl: null });
  });

  it('POST /cache/decr may go negative', async () => {
    expect((await call('POST', '/cache/decr', { key: 'decr:a' })).body).toEqual({ value: -1 });
    expect((await call('POST', '/cache/decr', { key: 'decr:a', amount: 10 })).body).toEqual({ value: -11 });
  });

  it('incr/decr on a non-numeric value: 400 whose error contains non_numeric', async () => {
    await call('POST', '/cache/set', { key: 'incr:text', value: 'hello' });
    for (const op of ['incr', 'decr']) {
      const answer = await call('POST', `/cache/${op}`, { key: 'incr:text' });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toContain('non_numeric');
      expect(answer.body.code).toBe('non_numeric');
    }
    expect((await call('GET', '/cache/get?key=incr:text')).body).toEqual({ value: 'hello', ttl: null });
  });

  it('POST /cache/batch runs get/set/delete in order with the documented result shapes', async () => {
    await call('POST', '/cache/set', { key: 'batch:old', value: 'old' });
    const answer = await call('POST', '/cache/batch', {
      operations: [
        { op: 'set', key: 'batch:a', value: { n: 1 } },
        { op: 'get', key: 'batch:a' },
        { op: 'get', key: 'batch:missing' },
        { op: 'set', key: 'batch:b', value: 2, ttl: 60 },
        { op: 'delete', key: 'batch:old' },
        { op: 'get', key: 'batch:old' },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      results: [
        { op: 'set', key: 'batch:a', success: true, written: true },
        { op: 'get', key: 'batch:a', value: { n: 1 }, ttl: null, found: true },
        { op: 'get', key: 'batch:missing', value: null, ttl: null, found: false },
        { op: 'set', key: 'batch:b', success: true, written: true },
        { op: 'delete', key: 'batch:old', success: true, deleted: true },
        { op: 'get', key: 'batch:old', value: null, ttl: null, found: false },
      ],
    });
  });

  it('GET /cache/scan?prefix=P lists items; keys_only=true lists keys', async () => {
    await call('POST', '/cache/batch', {
      operations: [
        { op: 'set', key: 'scan:b', value: 2 },
        { op: 'set', key: 'scan:a', value: { one: 1 } },
        { op: 'set', key: 'other:z', value: 0 },
      ],
    });
    expect((await call('GET', '/cache/scan?prefix=scan:')).body).toEqual({
      items: [
        { key: 'scan:a', value: { one: 1 }, ttl: null },
        { key: 'scan:b', value: 2, ttl: null },
      ],
      count: 2,
      cursor: null,
    });
    expect((await call('GET', '/cache/scan?prefix=scan:&keys_only=true')).body).toEqual({ keys: ['scan:a', 'scan:b'], count: 2, cursor: null });
  });

  it('POST /cache/clear empties the cache and says how many keys it removed; GET /cache/stats has the Part 1 shape', async () => {
    await call('POST', '/cache/clear');
    await call('POST', '/cache/batch', {
      operations: [
        { op: 'set', key: 'clear:a', value: 1 },
        { op: 'set', key: 'clear:b', value: 2 },
        { op: 'set', key: 'clear:c', value: 3 },
      ],
    });
    const stats = await call('GET', '/cache/stats');
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      size: 3,
      limit: 500000,
      memory: expect.any(Number),
      maxMemory: expect.any(Number),
      engine: 'memory',
      stats: { hits: expect.any(Number), misses: expect.any(Number), evictions: 0, expirations: expect.any(Number), operations: expect.any(Number) },
    });
    expect(stats.body.stats.hits).toBeGreaterThan(0);
    expect(stats.body.stats.misses).toBeGreaterThan(0);

    expect(await call('POST', '/cache/clear')).toMatchObject({ status: 200, body: { success: true, cleared: 3 } });
    expect((await call('POST', '/cache/clear', undefined, { 'content-type': 'application/json' })).body).toEqual({ success: true, cleared: 0 });
    expect((await call('GET', '/cache/stats')).body.size).toBe(0);
  });

  it('GET /health answers {"status":"healthy"}', async () => {
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'healthy' } });
    expect((await call('GET', '/health')).body).toEqual({ status: 'healthy' });
  });

  it('bad requests are 400 with an error that says what to fix; unknown paths are 404 JSON', async () => {
    const noKey = await call('GET', '/cache/get');
    expect(noKey.status).toBe(400);
    expect(noKey.body).toEqual({ error: expect.stringContaining('"key" is missing'), code: 'invalid_key' });

    const malformed = await call('POST', '/cache/set', '{"key": "a", ');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: expect.stringContaining('not valid JSON'), code: 'invalid_json' });

    const wrongType = await call('POST', '/cache/set', { key: 42, value: 1 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toEqual({ error: expect.stringContaining('"key" must be a string'), code: 'invalid_key' });

    const unknown = await call('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.stringContaining('No endpoint GET /nope'), code: 'not_found' });

    const wrongMethod = await call('GET', '/cache/set');
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body.error).toContain('use POST /cache/set');
  });
});

describe('Part 2: additions', () => {
  it('set nx/xx answers written', async () => {
    expect((await call('POST', '/cache/set', { key: 'nx:a', value: 1, nx: true })).body).toEqual({ success: true, written: true });
    expect((await call('POST', '/cache/set', { key: 'nx:a', value: 2, nx: true })).body).toEqual({ success: true, written: false });
    expect((await call('POST', '/cache/set', { key: 'nx:a', value: 3, xx: true })).body).toEqual({ success: true, written: true });
    expect((await call('POST', '/cache/set', { key: 'nx:absent', value: 3, xx: true })).body).toEqual({ success: true, written: false });
    expect((await call('GET', '/cache/get?key=nx:a')).body).toEqual({ value: 3, ttl: null });
    expect((await call('GET', '/cache/get?key=nx:absent')).status).toBe(404);
  });

  it('get reports the remaining ttl, and touch resets it as it reads', async () => {
    await call('POST', '/cache/set', { key: 'touch:a', value: 'v', ttl: 10 });
    const before = await call('GET', '/cache/get?key=touch:a');
    expect(before.body.value).toBe('v');
    expect(before.body.ttl).toBeGreaterThan(9);
    expect(before.body.ttl).toBeLessThanOrEqual(10);

    const touched = await call('GET', '/cache/get?key=touch:a&touch=500');
    expect(touched.body.ttl).toBeGreaterThan(499);
    expect((await call('GET', '/cache/get?key=touch:a')).body.ttl).toBeGreaterThan(499);

    const batch = await call('POST', '/cache/batch', { operations: [{ op: 'get', key: 'touch:a', touch: 0 }] });
    expect(batch.body.results[0]).toEqual({ op: 'get', key: 'touch:a', value: 'v', ttl: null, found: true });
  });

  it('incr/decr take a ttl applied when the key is created', async () => {
    expect((await call('POST', '/cache/incr', { key: 'rate:a', ttl: 100 })).body).toEqual({ value: 1 });
    const ttl = (await call('GET', '/cache/get?key=rate:a')).body.ttl;
    expect(ttl).toBeGreaterThan(99);
    expect((await call('POST', '/cache/decr', { key: 'rate:a', amount: 3, ttl: 5 })).body).toEqual({ value: -2 });
    expect((await call('GET', '/cache/get?key=rate:a')).body.ttl).toBeGreaterThan(90);
  });

  it('POST /cache/expire sets a ttl and says whether the key was there', async () => {
    await call('POST', '/cache/set', { key: 'exp:a', value: 1 });
    expect((await call('POST', '/cache/expire', { key: 'exp:a', ttl: 0.2 })).body).toEqual({ success: true });
    expect((await call('POST', '/cache/expire', { key: 'exp:absent', ttl: 5 })).body).toEqual({ success: false });
    await waitFor(async () => (await call('GET', '/cache/get?key=exp:a')).status === 404, { what: 'exp:a to expire' });
  });

  it('POST /cache/merge shallow-merges into an object, false when absent, 400 not_object on a non-object', async () => {
    await call('POST', '/cache/set', { key: 'merge:a', value: { a: 1, b: 2 } });
    expect((await call('POST', '/cache/merge', { key: 'merge:a', value: { b: 3, c: 4 } })).body).toEqual({ success: true });
    expect((await call('GET', '/cache/get?key=merge:a')).body).toEqual({ value: { a: 1, b: 3, c: 4 }, ttl: null });
    expect((await call('POST', '/cache/merge', { key: 'merge:absent', value: { x: 1 } })).body).toEqual({ success: false });
    expect((await call('GET', '/cache/get?key=merge:absent')).status).toBe(404);

    await call('POST', '/cache/set', { key: 'merge:text', value: 'text' });
    const notObject = await call('POST', '/cache/merge', { key: 'merge:text', value: { x: 1 } });
    expect(notObject.status).toBe(400);
    expect(notObject.body).toEqual({ error: expect.stringContaining('not_object'), code: 'not_object' });
  });

  it('tags: scan by tag and POST /cache/invalidate', async () => {
    await call('POST', '/cache/set', { key: 'sess:1', value: 1, tags: ['user:7'] });
    await call('POST', '/cache/set', { key: 'sess:2', value: 2, tags: ['user:7', 'web'] });
    await call('POST', '/cache/set', { key: 'sess:3', value: 3, tags: ['user:8'] });
    expect((await call('GET', '/cache/scan?tag=user:7&keys_only=true')).body).toEqual({ keys: ['sess:1', 'sess:2'], count: 2, cursor: null });
    expect((await call('POST', '/cache/invalidate', { tag: 'user:7' })).body).toEqual({ deleted: 2 });
    expect((await call('GET', '/cache/scan?prefix=sess:&keys_only=true')).body).toEqual({ keys: ['sess:3'], count: 1, cursor: null });
  });

  it('scan pages with limit and cursor', async () => {
    const operations = Array.from({ length: 5 }, (_, i) => ({ op: 'set', key: `page:${i}`, value: i }));
    await call('POST', '/cache/batch', { operations });
    const keys: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/cache/scan?prefix=page:&keys_only=true&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', query);
      expect(page.status).toBe(200);
      expect(page.body.count).toBe(page.body.keys.length);
      keys.push(...page.body.keys);
      cursor = page.body.cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(keys).toEqual(['page:0', 'page:1', 'page:2', 'page:3', 'page:4']);
    expect(pages).toBe(3);
  });

  it('GET /cache/exists', async () => {
    await call('POST', '/cache/set', { key: 'ex:a', value: false });
    expect((await call('GET', '/cache/exists?key=ex:a')).body).toEqual({ exists: true });
    expect((await call('GET', '/cache/exists?key=ex:b')).body).toEqual({ exists: false });
  });

  it('batch takes every command type; an invalid command gets its own error while the others run', async () => {
    const answer = await call('POST', '/cache/batch', {
      operations: [
        { op: 'set', key: 'all:a', value: { n: 1 }, tags: ['all'] },
        { op: 'merge', key: 'all:a', value: { m: 2 } },
        { op: 'exists', key: 'all:a' },
        { op: 'incr', key: 'all:n', amount: 2 },
        { op: 'decr', key: 'all:n' },
        { op: 'expire', key: 'all:a', ttl: 0 },
        { op: 'frobnicate', key: 'all:x' },
        { op: 'set', key: '__proto__', value: 1 },
        { op: 'get', key: 'all:a' },
        { op: 'scan', prefix: 'all:', keysOnly: true },
        { op: 'invalidate', tag: 'all' },
        { op: 'get', key: 'all:a' },
      ],
    });
    expect(answer.status).toBe(200);
    const [set, merge, exists, incr, decr, expire, unknown, reserved, get, scan, invalidate, gone] = answer.body.results;
    expect(set).toEqual({ op: 'set', key: 'all:a', success: true, written: true });
    expect(merge).toEqual({ op: 'merge', key: 'all:a', success: true });
    expect(exists).toEqual({ op: 'exists', key: 'all:a', exists: true });
    expect(incr).toEqual({ op: 'incr', key: 'all:n', value: 2 });
    expect(decr).toEqual({ op: 'decr', key: 'all:n', value: 1 });
    expect(expire).toEqual({ op: 'expire', key: 'all:a', success: true });
    expect(unknown).toEqual({ op: 'frobnicate', key: 'all:x', error: { code: 'unknown_op', message: expect.stringContaining('Use one of') } });
    expect(reserved).toEqual({ op: 'set', key: '__proto__', error: { code: 'reserved_key', message: expect.stringContaining('reserved') } });
    expect(get).toEqual({ op: 'get', key: 'all:a', value: { n: 1, m: 2 }, ttl: null, found: true });
    expect(scan).toEqual({ op: 'scan', keys: ['all:a', 'all:n'], count: 2, cursor: null });
    expect(invalidate).toEqual({ op: 'invalidate', tag: 'all', deleted: 1 });
    expect(gone).toEqual({ op: 'get', key: 'all:a', value: null, ttl: null, found: false });
  });

  it('GET /metrics exposes Prometheus text', async () => {
    const answer = await call('GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    for (const name of [
      'lix_operations_total{op="get"}',
      'lix_cache_hits_total',
      'lix_cache_misses_total',
      'lix_cache_keys',
      'lix_cache_memory_bytes',
      'lix_cache_evictions_total',
      'lix_cache_expirations_total',
      'lix_http_request_duration_seconds_bucket',
    ]) {
      expect(answer.text).toContain(name);
    }
    const gets = Number(/lix_operations_total\{op="get"\} (\d+)/.exec(answer.text)?.[1]);
    expect(gets).toBeGreaterThan(10);
  });

  it('echoes a safe x-request-id and makes one up otherwise', async () => {
    const given = await call('GET', '/health', undefined, { 'x-request-id': 'trace-abc.123' });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const unsafe = await call('GET', '/cache/get?key=nothing', undefined, { 'x-request-id': 'no spaces <allowed>' });
    const made = unsafe.headers.get('x-request-id');
    expect(made).toMatch(/^[\w-]+$/);
    expect(made).not.toBe('no spaces <allowed>');
    const another = (await call('GET', '/health')).headers.get('x-request-id');
    expect(another).not.toBe(made);
  });
});
