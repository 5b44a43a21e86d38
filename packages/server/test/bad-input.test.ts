import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { client } from './http-client';

// Issue 2 item 4: every kind of bad input gets a clear 4xx that says what is wrong
// and how to fix it; the server stays up and the data stored before is intact.

let server: ServerProcess;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startServer({
    env: { LIX_MAX_KEY_BYTES: '64', LIX_MAX_VALUE_BYTES: '2kb', LIX_MAX_BODY_BYTES: '16kb', LIX_MAX_BATCH: '5', LIX_MAX_TAGS: '3' },
  });
  call = client(server.url);
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

interface BadInput {
  what: string;
  method: string;
  path: string;
  /** A string is sent as the raw body. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** Text the message must contain. */
  says: string;
}

const poisoned = '{"key":"poison","value":{"__proto__":{"polluted":true}}}';
const constructorPoisoned = '{"key":"poison","value":{"constructor":{"prototype":{"polluted":true}}}}';

const BAD_INPUTS: BadInput[] = [
  // malformed JSON
  { what: 'truncated JSON', method: 'POST', path: '/cache/set', body: '{"key":"a","value":', status: 400, code: 'invalid_json', says: 'not valid JSON' },
  { what: 'NaN in JSON', method: 'POST', path: '/cache/set', body: '{"key":"a","value":1,"ttl":NaN}', status: 400, code: 'invalid_json', says: 'Content-Type: application/json' },
  { what: 'a form body', method: 'POST', path: '/cache/set', body: 'key=a&value=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, code: 'invalid_body', says: 'Content-Type: application/json' },
  { what: 'a text body', method: 'POST', path: '/cache/incr', body: 'a', headers: { 'content-type': 'text/plain' }, status: 400, code: 'invalid_body', says: '"text/plain"' },
  // wrong JSON types
  { what: 'an array body', method: 'POST', path: '/cache/set', body: [1, 2], status: 400, code: 'invalid_body', says: 'must be a JSON object' },
  { what: 'a string body', method: 'POST', path: '/cache/incr', body: '"hello"', status: 400, code: 'invalid_body', says: 'must be a JSON object' },
  { what: 'operations not an array', method: 'POST', path: '/cache/batch', body: { operations: { op: 'get' } }, status: 400, code: 'invalid_body', says: '"operations" must be an array' },
  { what: 'a string ttl', method: 'POST', path: '/cache/set', body: { key: 'a', value: 1, ttl: 'soon' }, status: 400, code: 'invalid_ttl', says: '"ttl" must be a number of seconds' },
  { what: 'a string amount', method: 'POST', path: '/cache/incr', body: { key: 'n', amount: '5' }, status: 400, code: 'invalid_amount', says: '"amount" must be a finite number' },
  { what: 'nx not boolean', method: 'POST', path: '/cache/set', body: { key: 'a', value: 1, nx: 'yes' }, status: 400, code: 'invalid_command', says: 'true or false' },
  { what: 'merge with a non-object', method: 'POST', path: '/cache/merge', body: { key: 'a', value: [1] }, status: 400, code: 'invalid_value', says: 'must be a JSON object' },
  { what: 'an unknown field', method: 'POST', path: '/cache/set', body: { key: 'a', value: 1, ttl_seconds: 5 }, status: 400, code: 'invalid_command', says: 'Unknown field "ttl_seconds"' },
  // missing fields
  { what: 'set without value', method: 'POST', path: '/cache/set', body: { key: 'a' }, status: 400, code: 'invalid_value', says: '"value" is missing' },
  { what: 'set without key', method: 'POST', path: '/cache/set', body: { value: 1 }, status: 400, code: 'invalid_key', says: '"key" is missing' },
  { what: 'set without a body', method: 'POST', path: '/cache/set', status: 400, code: 'invalid_key', says: '"key" is missing' },
  { what: 'get without key', method: 'GET', path: '/cache/get', status: 400, code: 'invalid_key', says: '"key" is missing' },
  { what: 'delete without key', method: 'DELETE', path: '/cache/delete', status: 400, code: 'invalid_key', says: '"key" is missing' },
  { what: 'expire without ttl', method: 'POST', path: '/cache/expire', body: { key: 'a' }, status: 400, code: 'invalid_ttl', says: 'got nothing' },
  { what: 'invalidate without tag', method: 'POST', path: '/cache/invalidate', body: {}, status: 400, code: 'invalid_tags', says: '"tag" must be a non-empty string' },
  { what: 'batch without operations', method: 'POST', path: '/cache/batch', body: {}, status: 400, code: 'invalid_body', says: '"operations" must be an array' },
  // non-string keys
  { what: 'a number key', method: 'POST', path: '/cache/set', body: { key: 42, value: 1 }, status: 400, code: 'invalid_key', says: '"key" must be a string; got 42' },
  { what: 'an object key', method: 'POST', path: '/cache/set', body: { key: { a: 1 }, value: 1 }, status: 400, code: 'invalid_key', says: 'must be a string' },
  { what: 'a null key', method: 'POST', path: '/cache/incr', body: { key: null }, status: 400, code: 'invalid_key', says: 'must be a string' },
  { what: 'an empty key', method: 'POST', path: '/cache/set', body: { key: '', value: 1 }, status: 400, code: 'invalid_key', says: '"key" is empty' },
  { what: 'a repeated key parameter', method: 'GET', path: '/cache/get?key=a&key=b', status: 400, code: 'invalid_key', says: 'must be a string' },
  // reserved keys and prototype poisoning
  { what: 'key __proto__ (set)', method: 'POST', path: '/cache/set', body: { key: '__proto__', value: { polluted: true } }, status: 400, code: 'reserved_key', says: 'item:__proto__' },
  { what: 'key constructor (get)', method: 'GET', path: '/cache/get?key=constructor', status: 400, code: 'reserved_key', says: 'reserved' },
  { what: 'key prototype (incr)', method: 'POST', path: '/cache/incr', body: { key: 'prototype' }, status: 400, code: 'reserved_key', says: 'reserved' },
  { what: 'key __proto__ (delete)', method: 'DELETE', path: '/cache/delete?key=__proto__', status: 400, code: 'reserved_key', says: 'reserved' },
  { what: 'a __proto__ property in the body', method: 'POST', path: '/cache/set', body: poisoned, status: 400, code: 'invalid_body', says: '__proto__' },
  { what: 'a constructor.prototype property in the body', method: 'POST', path: '/cache/set', body: constructorPoisoned, status: 400, code: 'invalid_body', says: 'constructor.prototype' },
  // sizes
  { what: 'an oversize key', method: 'POST', path: '/cache/set', body: { key: 'k'.repeat(65), value: 1 }, status: 400, code: 'key_too_long', says: 'LIX_MAX_KEY_BYTES' },
  { what: 'an oversize key in the query', method: 'GET', path: `/cache/get?key=${'é'.repeat(40)}`, status: 400, code: 'key_too_long', says: '80 bytes' },
  { what: 'an oversize value', method: 'POST', path: '/cache/set', body: { key: 'big', value: 'x'.repeat(3000) }, status: 413, code: 'value_too_large', says: 'LIX_MAX_VALUE_BYTES' },
  { what: 'an oversize merge', method: 'POST', path: '/cache/merge', body: { key: 'keep:object', value: { blob: 'x'.repeat(3000) } }, status: 413, code: 'value_too_large', says: 'LIX_MAX_VALUE_BYTES' },
  { what: 'an oversize body', method: 'POST', path: '/cache/set', body: { key: 'big', value: 'x'.repeat(20_000) }, status: 413, code: 'body_too_large', says: 'LIX_MAX_BODY_BYTES' },
  { what: 'too many batch commands', method: 'POST', path: '/cache/batch', body: { operations: Array.from({ length: 6 }, (_, i) => ({ op: 'get', key: `k${i}` })) }, status: 413, code: 'batch_too_large', says: 'LIX_MAX_BATCH' },
  { what: 'too many tags', method: 'POST', path: '/cache/set', body: { key: 'a', value: 1, tags: ['a', 'b', 'c', 'd'] }, status: 400, code: 'too_many_tags', says: 'LIX_MAX_TAGS' },
  { what: 'tags not an array', method: 'POST', path: '/cache/set', body: { key: 'a', value: 1, tags: 'a' }, status: 400, code: 'invalid_tags', says: 'array of strings' },
  // TTLs
  { what: 'a negative ttl', method: 'POST', path: '/cache/set', body: { key: 'a', value: 1, ttl: -1 }, status: 400, code: 'invalid_ttl', says: 'got -1' },
  { what: 'a huge ttl', method: 'POST', path: '/cache/set', body: { key: 'a', value: 1, ttl: 1e20 }, status: 400, code: 'invalid_ttl', says: 'from 0 (no expiry)' },
  { what: 'an infinite ttl (1e400)', method: 'POST', path: '/cache/incr', body: '{"key":"n","ttl":1e400}', status: 400, code: 'invalid_ttl', says: 'Infinity' },
  { what: 'a "NaN" ttl', method: 'POST', path: '/cache/expire', body: { key: 'keep:string', ttl: 'NaN' }, status: 400, code: 'invalid_ttl', says: '"NaN"' },
  { what: 'a negative touch', method: 'GET', path: '/cache/get?key=keep:string&touch=-5', status: 400, code: 'invalid_ttl', says: '"touch"' },
  { what: 'a non-numeric touch', method: 'GET', path: '/cache/get?key=keep:string&touch=abc', status: 400, code: 'invalid_ttl', says: '"abc"' },
  // ops and values
  { what: 'incr on a string', method: 'POST', path: '/cache/incr', body: { key: 'keep:string' }, status: 400, code: 'non_numeric', says: 'non_numeric' },
  { what: 'decr on an object', method: 'POST', path: '/cache/decr', body: { key: 'keep:object' }, status: 400, code: 'non_numeric', says: 'non_numeric' },
  { what: 'merge into a string', method: 'POST', path: '/cache/merge', body: { key: 'keep:string', value: { a: 1 } }, status: 400, code: 'not_object', says: 'not_object' },
  { what: 'a scan limit of 0', method: 'GET', path: '/cache/scan?limit=0', status: 400, code: 'invalid_scan', says: '"limit" of scan must be a whole number' },
  { what: 'a scan limit that is no number', method: 'GET', path: '/cache/scan?limit=ten', status: 400, code: 'invalid_scan', says: '"ten"' },
  { what: 'keys_only that is no boolean', method: 'GET', path: '/cache/scan?keys_only=maybe', status: 400, code: 'invalid_scan', says: '"keys_only" must be true or false' },
  { what: 'a bad scan cursor', method: 'GET', path: '/cache/scan?cursor=not-a-cursor', status: 400, code: 'invalid_scan', says: 'cursor' },
];

it('answers each bad input with a clear 4xx, stays up, and keeps the data stored before', async () => {
  const stored = {
    'keep:string': 'hello',
    'keep:object': { name: 'Ada', roles: ['admin'] },
    'keep:number': 41,
    'keep:null': null,
  };
  for (const [key, value] of Object.entries(stored)) {
    expect((await call('POST', '/cache/set', { key, value, tags: ['keep'] })).status).toBe(200);
  }
  await call('POST', '/cache/incr', { key: 'keep:number' });

  const failures: string[] = [];
  for (const bad of BAD_INPUTS) {
    const answer = await call(bad.method, bad.path, bad.body, bad.headers);
    const ok =
      answer.status === bad.status &&
      answer.headers.get('content-type')?.startsWith('application/json') &&
      typeof answer.body === 'object' &&
      answer.body.code === bad.code &&
      typeof answer.body.error === 'string' &&
      answer.body.error.length > 20 &&
      answer.body.error.includes(bad.says);
    if (!ok) failures.push(`${bad.what}: expected ${bad.status} ${bad.code} saying ${JSON.stringify(bad.says)}; got ${answer.status} ${answer.text}`);
  }
  expect(failures).toEqual([]);

  // A batch with bad commands answers 200 with per-command errors, and runs the good ones.
  const batch = await call('POST', '/cache/batch', {
    operations: [{ op: 'drop_table', key: 'x' }, { op: 'set', key: 'constructor', value: 1 }, { key: 'no-op' }, 'get keep:string', { op: 'get', key: 'keep:string' }],
  });
  expect(batch.status).toBe(200);
  expect(batch.body.results.map((result: { error?: { code: string } }) => result.error?.code ?? 'ok')).toEqual([
    'unknown_op',
    'reserved_key',
    'unknown_op',
    'invalid_command',
    'ok',
  ]);
  expect(batch.body.results[4].value).toBe('hello');

  // Everything stored before is intact, nothing the bad inputs named was stored.
  expect((await call('GET', '/cache/get?key=keep:string')).body).toEqual({ value: 'hello', ttl: null });
  expect((await call('GET', '/cache/get?key=keep:object')).body).toEqual({ value: { name: 'Ada', roles: ['admin'] }, ttl: null });
  expect((await call('GET', '/cache/get?key=keep:number')).body).toEqual({ value: 42, ttl: null });
  expect((await call('GET', '/cache/get?key=keep:null')).body).toEqual({ value: null, ttl: null });
  expect((await call('GET', '/cache/scan?tag=keep&keys_only=true')).body).toEqual({
    keys: ['keep:null', 'keep:number', 'keep:object', 'keep:string'],
    count: 4,
    cursor: null,
  });
  for (const key of ['poison', 'big', 'a', 'n']) expect((await call('GET', `/cache/get?key=${key}`)).status).toBe(404);
  expect((await call('GET', '/cache/stats')).body.size).toBe(4);
  expect((await call('GET', '/health')).body).toEqual({ status: 'healthy' });
  expect(server.process.exitCode).toBeNull();
});
