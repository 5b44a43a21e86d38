import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import {
  LixCache,
  type BatchOperation,
  type BatchResult,
  type CacheHealth,
  type CacheStats,
  type ClearResult,
  type Collection,
  type Entry,
  type HealthResponse,
  type LixCacheConfig,
  type Result,
  type ResultByOp,
  type ScanResult,
  type ScanItem,
  type ScanKeysPage,
  type ScanPage,
  type Value,
} from '../src/index';

interface User {
  name: string;
  age: number;
}

const cache = new LixCache();

describe('LixCache types', () => {
  it('get<T> resolves T | null; without T, unknown', () => {
    expectTypeOf(cache.get<User>('user:1')).toEqualTypeOf<Promise<User | null>>();
    expectTypeOf(cache.get('user:1')).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(cache.getEntry<User>('user:1')).toEqualTypeOf<Promise<Entry<User> | null>>();
  });

  it('writes resolve booleans and numbers', () => {
    expectTypeOf(cache.set('k', { a: 1 }, { ttl: 60, nx: true, tags: ['t'] })).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(cache.merge<User>('k', { age: 3 })).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(cache.delete('k')).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(cache.exists('k')).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(cache.incr('k', 2, { ttl: 5 })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.decr('k')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.expire('k', 10)).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(cache.invalidate('t')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.clear()).toEqualTypeOf<Promise<ClearResult>>();
    // @ts-expect-error merge patches are partial T: a wrong field type is refused
    void cache.merge<User>('k', { age: 'old' });
  });

  it('scan: items by default, keys with keysOnly, in both call forms', () => {
    expectTypeOf(cache.scan({ prefix: 'session:' })).toEqualTypeOf<Promise<ScanPage<unknown>>>();
    expectTypeOf(cache.scan<User>('user:')).toEqualTypeOf<Promise<ScanPage<User>>>();
    expectTypeOf(cache.scan('user:', { keysOnly: true })).toEqualTypeOf<Promise<ScanKeysPage>>();
    expectTypeOf(cache.scan({ prefix: 'user:', keysOnly: true })).toEqualTypeOf<Promise<ScanKeysPage>>();
    expectTypeOf(cache.scanAll<User>({ prefix: 'user:' })).toEqualTypeOf<AsyncIterableIterator<ScanItem<User>>>();
    expectTypeOf(cache.scanAll({ keysOnly: true })).toEqualTypeOf<AsyncIterableIterator<string>>();
  });

  it('the seed’s untyped get with a fallback takes its type from the annotation', async () => {
    const userSessions: string[] = await cache.get('user:1:sessions') || [];
    expectTypeOf(userSessions).toEqualTypeOf<string[]>();
    expectTypeOf(cache.get<string[]>('k').then((v) => v || [])).toEqualTypeOf<Promise<string[]>>();
  });

  it('the seed’s scan: result.items[i].value', async () => {
    const result = await cache.scan({ prefix: 'session:' });
    expectTypeOf(result.items[0]!.value).toBeUnknown();
    expectTypeOf(result.count).toBeNumber();
    expectTypeOf(result.cursor).toEqualTypeOf<string | null>();
  });

  it('batch takes core commands and resolves core results', () => {
    expectTypeOf(cache.batch([{ op: 'get', key: 'a' }, { op: 'incr', key: 'n', amount: 2 }])).toEqualTypeOf<Promise<Result[]>>();
    // @ts-expect-error not a command
    void cache.batch([{ op: 'fly', key: 'a' }]);
  });

  it('the original Lix Cache SDK’s types are assignable from what the methods return', async () => {
    // Shapes as the original SDK declared them: a change here breaks code written against it.
    expectTypeOf<ClearResult>().toEqualTypeOf<{ success: boolean; cleared: number }>();
    expectTypeOf<HealthResponse>().toEqualTypeOf<{ status: 'healthy' | 'unhealthy' }>();
    expectTypeOf<ScanResult<User>>().toEqualTypeOf<{ items?: Array<{ key: string; value: User }>; keys?: string[]; count: number }>();
    expectTypeOf<BatchOperation>().toEqualTypeOf<
      { op: 'get'; key: string } | { op: 'set'; key: string; value: unknown; ttl?: number } | { op: 'delete'; key: string }
    >();
    expectTypeOf<BatchResult>().toEqualTypeOf<
      { op: 'get'; key: string; value: unknown } | { op: 'set'; key: string; success: boolean } | { op: 'delete'; key: string; success: boolean }
    >();

    const cleared: ClearResult = await cache.clear();
    const health: HealthResponse = await cache.health();
    const items: ScanResult<User> = await cache.scan<User>('user:');
    const keys: ScanResult = await cache.scan('user:', { keysOnly: true });
    const original: { size: number; limit: number; stats: Record<string, unknown> } = await cache.stats();
    void [cleared, health, items, keys, original];
    expectTypeOf<ResultByOp['get' | 'set' | 'delete']>().toMatchTypeOf<BatchResult>();
    expectTypeOf(cache.health()).toEqualTypeOf<Promise<CacheHealth>>();
    expectTypeOf<CacheHealth['status']>().toEqualTypeOf<'healthy' | 'unhealthy'>();
    expectTypeOf<CacheStats['stats']['hits']>().toBeNumber();
    expectTypeOf<CacheStats['hits']>().toBeNumber();

    const operations: BatchOperation[] = [{ op: 'set', key: 'a', value: new Date(), ttl: 5 }, { op: 'get', key: 'a' }, { op: 'delete', key: 'a' }];
    expectTypeOf(cache.batch(operations)).toEqualTypeOf<Promise<Result[]>>();
  });

  it('config takes the original SDK’s batchWindow, localCache and localCacheTTL', () => {
    const config: LixCacheConfig = { url: 'http://localhost:4000', batching: true, batchWindow: 10, localCache: false, localCacheTTL: 60 };
    void config;
    // @ts-expect-error batchWindow is milliseconds, a number
    void new LixCache({ batchWindow: '10' });
    // @ts-expect-error localCache is a boolean
    void new LixCache({ localCache: 'yes' });
  });

  it('remember returns what fn computes', () => {
    expectTypeOf(cache.remember('k', async () => ({ name: 'a', age: 1 }), { ttl: 60 })).toEqualTypeOf<Promise<{ name: string; age: number }>>();
    expectTypeOf(cache.rememberAll('u:', async () => [{ id: 'a' }], { getKey: (u) => u.id }).then((r) => r.getBy('a'))).toEqualTypeOf<
      Promise<{ id: string } | undefined>
    >();
  });
});

describe('Collection and Value types', () => {
  it('a collection’s type comes from its schema', () => {
    const Zod4 = z.object({ name: z.string(), age: z.number() });
    expectTypeOf(cache.collection('u:', Zod4)).toEqualTypeOf<Collection<{ name: string; age: number }>>();
    const Zod3 = z3.object({ name: z3.string(), age: z3.number() });
    expectTypeOf(cache.collection('u:', Zod3)).toEqualTypeOf<Collection<{ name: string; age: number }>>();
    const Valibot = v.object({ name: v.string(), age: v.number() });
    expectTypeOf(cache.collection('u:', Valibot)).toEqualTypeOf<Collection<{ name: string; age: number }>>();
    const Ark = type({ name: 'string', age: 'number' });
    expectTypeOf(cache.collection('u:', Ark)).toEqualTypeOf<Collection<{ name: string; age: number }>>();
    expectTypeOf(cache.collection('u:', Zod4).get('1')).toEqualTypeOf<Promise<{ name: string; age: number } | null>>();
  });

  it('an explicit type argument works with or without a schema (the seed’s collection<Session>)', () => {
    const SessionSchema = z.object({ userId: z.string(), roles: z.array(z.string()) });
    type Session = z.infer<typeof SessionSchema>;
    const sessions = cache.collection<Session>('session:', SessionSchema);
    expectTypeOf(sessions).toEqualTypeOf<Collection<Session>>();
    expectTypeOf(cache.collection<User>('user:')).toEqualTypeOf<Collection<User>>();
    expectTypeOf(cache.collection('any:')).toEqualTypeOf<Collection<unknown>>();
    // @ts-expect-error the schema does not produce a User
    cache.collection<User>('user:', SessionSchema);
  });

  it('collection methods are typed by T', () => {
    const users = cache.collection<User>('user:');
    expectTypeOf(users.get('1')).toEqualTypeOf<Promise<User | null>>();
    expectTypeOf(users.batchGet(['1'])).toEqualTypeOf<Promise<(User | null)[]>>();
    expectTypeOf(users.scan()).toEqualTypeOf<Promise<ScanPage<User>>>();
    expectTypeOf(users.scan({ keysOnly: true })).toEqualTypeOf<Promise<ScanKeysPage>>();
    expectTypeOf(users.remember('1', () => ({ name: 'a', age: 1 }))).toEqualTypeOf<Promise<User>>();
    // @ts-expect-error wrong value type
    void users.set('1', { name: 'a' });
    // @ts-expect-error batchSet items must be User
    void users.batchSet([{ id: '1', value: { name: 1 } }]);
  });

  it('value: typed single key with incr/decr', () => {
    const views = cache.value<number>('views');
    expectTypeOf(views).toEqualTypeOf<Value<number>>();
    expectTypeOf(views.get()).toEqualTypeOf<Promise<number | null>>();
    expectTypeOf(views.incr()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.value('flags', z.object({ beta: z.boolean() })).get()).toEqualTypeOf<Promise<{ beta: boolean } | null>>();
    // @ts-expect-error wrong value type
    void views.set('many');
  });
});
