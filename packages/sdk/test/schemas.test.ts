import { type } from 'arktype';
import * as v from 'valibot';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import { LixCache, LixValidationError, type Schema } from '../src/index';

interface User {
  name: string;
  email: string;
  age: number;
}

const zod3 = z3.object({ name: z3.string(), email: z3.string().email(), age: z3.number().int().min(0) });
const schemas: [string, Schema<User>][] = [
  ['zod 4', z.object({ name: z.string(), email: z.email(), age: z.number().int().min(0) })],
  ['zod 3', zod3],
  ['zod before Standard Schema (safeParse only)', { safeParse: (data: unknown) => zod3.safeParse(data) } as Schema<User>],
  ['valibot', v.object({ name: v.string(), email: v.pipe(v.string(), v.email()), age: v.pipe(v.number(), v.integer(), v.minValue(0)) })],
  ['valibot async', v.objectAsync({ name: v.string(), email: v.pipe(v.string(), v.email()), age: v.pipe(v.number(), v.integer(), v.minValue(0)) })],
  ['arktype', type({ name: 'string', email: 'string.email', age: 'number.integer >= 0' })],
];

const cache = new LixCache({ url: 'memory://schemas' });
afterAll(() => cache.close());
beforeEach(async () => {
  await cache.clear();
});

const ann: User = { name: 'Ann', email: 'ann@example.com', age: 30 };
const bad = { name: 'Bob', email: 'not-an-email', age: -1 } as User;

async function validationError(promise: Promise<unknown>): Promise<LixValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LixValidationError);
  return error as LixValidationError;
}

function paths(error: LixValidationError): string[] {
  return error.issues.map((issue) => (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.')).sort();
}

describe.each(schemas)('schemas: %s', (_name, schema) => {
  it('validates on write: valid data is stored, invalid data throws with issues and stores nothing', async () => {
    const users = cache.collection('user:', schema);
    expect(await users.set('1', ann)).toBe(true);
    expect(await users.get('1')).toEqual(ann);
    const error = await validationError(users.set('2', bad));
    expect(error.code).toBe('validation_failed');
    expect(paths(error)).toEqual(['age', 'email']);
    expect(error.message).toMatch(/user:2.*on write/);
    expect(await cache.exists('user:2')).toBe(false);
  });

  it('validates on read: data written without the schema is refused when read through it', async () => {
    await cache.set('user:3', { name: 'Cy', email: 'cy@example.com', age: 'old' });
    const users = cache.collection('user:', schema);
    const error = await validationError(users.get('3'));
    expect(paths(error)).toEqual(['age']);
    expect(error.message).toMatch(/on read/);
    await validationError(users.scan());
    await validationError(users.batchGet(['3']));
    await validationError(users.remember('3', () => ann));
    expect(await users.get('missing')).toBeNull();
  });

  it('batchSet writes nothing when one item is invalid; remember does not store an invalid result', async () => {
    const users = cache.collection('user:', schema);
    await validationError(users.batchSet([{ id: 'a', value: ann }, { id: 'b', value: bad }]));
    expect(await cache.exists('user:a')).toBe(false);
    await validationError(users.remember('c', () => bad));
    expect(await cache.exists('user:c')).toBe(false);
    expect(await users.remember('d', () => ann)).toEqual(ann);
    expect(await cache.get('user:d')).toEqual(ann);
  });

  it('value(key, schema) validates both ways too', async () => {
    const owner = cache.value('owner', schema);
    await validationError(owner.set(bad));
    expect(await owner.set(ann)).toBe(true);
    expect(await owner.get()).toEqual(ann);
    await cache.merge('owner', { email: 'broken' });
    await validationError(owner.get());
  });
});

describe('schemas', () => {
  it('the seed’s Zod session collection type-checks and validates', async () => {
    const SessionSchema = z.object({
      userId: z.string(),
      username: z.string(),
      email: z.string().email(),
      roles: z.array(z.string()),
      createdAt: z.number(),
      lastAccess: z.number(),
      ipAddress: z.string().optional(),
      userAgent: z.string().optional(),
    });
    type Session = z.infer<typeof SessionSchema>;
    const sessions = cache.collection<Session>('session:', SessionSchema);
    await sessions.set('abc123', {
      userId: 'user-1',
      username: 'alice',
      email: 'alice@example.com',
      roles: ['user', 'admin'],
      createdAt: Date.now(),
      lastAccess: Date.now(),
    });
    expect((await sessions.get('abc123'))?.roles).toEqual(['user', 'admin']);
    await validationError(sessions.set('x', { userId: 'u' } as Session));
  });

  it('stores the schema’s output: unknown keys stripped, defaults applied', async () => {
    const Prefs = z.object({ theme: z.string().default('dark') });
    const prefs = cache.value('prefs', Prefs);
    await prefs.set({ extra: true } as never);
    expect(await cache.get('prefs')).toEqual({ theme: 'dark' });
  });

  it('a non-schema is refused where it is given', () => {
    expect(() => cache.collection('x:', { parse: () => 1 } as never)).toThrow(LixValidationError);
    expect(() => cache.value('x', 42 as never)).toThrow(/Standard Schema/);
  });
});
