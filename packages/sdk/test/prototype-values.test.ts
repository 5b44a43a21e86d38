import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../test/helpers/redis-process';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { LixCache, LixValidationError, type Command } from '../src/index';

/**
 * The server refuses a body with an own "__proto__" key or a "constructor" object with
 * a "prototype" (secure-json-parse, protoAction/constructorAction 'error'). Every
 * transport refuses such a value the same way, before it is sent or stored, with the
 * code and message the real server answers; values it accepts are accepted everywhere.
 */

const POISONED = {
  proto: '{"__proto__":{"polluted":true}}',
  nested: '{"list":[{"deep":{"__proto__":{"polluted":true}}}]}',
  constructor: '{"constructor":{"prototype":{"polluted":true}}}',
};
const HARMLESS = ['{"a":"__proto__"}', '{"constructor":1}', '{"constructor":{"name":"Object"}}', '{"prototype":{"x":1}}'];

describe('values with __proto__ / constructor.prototype, on every transport', () => {
  let server: ServerProcess;
  let redis: RedisProcess;
  const caches: Record<string, LixCache> = {};
  /** What the real server answers for a set of each poisoned value: status, code, message. */
  const answers: Record<string, { status: number; code: string; message: string }> = {};

  beforeAll(async () => {
    [server, redis] = await Promise.all([startServer(), startRedis()]);
    caches.http = new LixCache({ url: server.url });
    caches.memory = new LixCache({ url: 'memory://prototype-values' });
    caches.redis = new LixCache({ url: `${redis.url}?keyPrefix=proto:` });
    for (const [name, json] of Object.entries(POISONED)) {
      const response = await fetch(`${server.url}/cache/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"key":"poison","value":${json}}` });
      const body = (await response.json()) as { error: string; code: string };
      answers[name] = { status: response.status, code: body.code, message: body.error };
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(caches).map((cache) => cache.close()));
    expect(await server.stop()).toBe(0);
    await redis.stop();
  });

  it('the real server refuses each with 400 invalid_body', () => {
    for (const answer of Object.values(answers)) {
      expect(answer).toMatchObject({ status: 400, code: 'invalid_body' });
      expect(answer.message).toMatch(/"__proto__" or "constructor.prototype"/);
    }
  });

  describe.each(['http', 'memory', 'redis'])('%s://', (transport) => {
    it.each(Object.keys(POISONED))('set of the %s value: the server’s code and message, nothing stored', async (name) => {
      const cache = caches[transport]!;
      const error = await cache.set('poison', JSON.parse(POISONED[name as keyof typeof POISONED])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LixValidationError);
      expect((error as LixValidationError).code).toBe(answers[name]!.code);
      expect((error as Error).message).toBe(answers[name]!.message);
      expect(await cache.exists('poison')).toBe(false);
    });

    it('merge with a poisoned patch is refused the same way; the object is unchanged', async () => {
      const cache = caches[transport]!;
      await cache.set('obj', { a: 1 });
      for (const [name, json] of Object.entries(POISONED)) {
        const error = await cache.merge('obj', JSON.parse(json)).catch((e: unknown) => e);
        expect((error as LixValidationError).code).toBe(answers[name]!.code);
        expect((error as Error).message).toBe(answers[name]!.message);
      }
      expect(await cache.get('obj')).toEqual({ a: 1 });
    });

    it('in a batch, only the poisoned command fails; the others run', async () => {
      const cache = caches[transport]!;
      const commands = [
        { op: 'set', key: 'before', value: 1 },
        { op: 'set', key: 'poison', value: JSON.parse(POISONED.proto) },
        { op: 'get', key: 'before' },
      ] as Command[];
      const results = await cache.batch(commands);
      expect(results[0]).toMatchObject({ op: 'set', success: true });
      expect(results[1]).toEqual({ op: 'set', key: 'poison', error: { code: answers.proto!.code, message: answers.proto!.message } });
      expect(results[2]).toMatchObject({ op: 'get', value: 1 });
    });

    it('the values the server accepts are stored and read back as sent', async () => {
      const cache = caches[transport]!;
      for (const [n, json] of HARMLESS.entries()) {
        await cache.set(`harmless:${n}`, JSON.parse(json));
        expect(JSON.stringify(await cache.get(`harmless:${n}`))).toBe(json);
      }
    });
  });

  it('the real server accepts the same harmless values', async () => {
    for (const json of HARMLESS) {
      const response = await fetch(`${server.url}/cache/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"key":"h","value":${json}}` });
      expect(response.status).toBe(200);
    }
  });

  it('a value stored before the rule (straight in Redis) still reads, and merges into it still work', async () => {
    const raw = new Redis(redis.port, redis.host);
    try {
      await raw.hset('proto:k:legacy', 'v', '{"__proto__":{"polluted":true},"a":1}');
    } finally {
      raw.disconnect();
    }
    const cache = caches.redis!;
    const legacy = (await cache.get('legacy')) as Record<string, unknown>;
    expect(Object.hasOwn(legacy, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await cache.merge('legacy', { b: 2 })).toBe(true);
    expect(JSON.stringify(await cache.get('legacy'))).toBe('{"__proto__":{"polluted":true},"a":1,"b":2}');
  });
});
