import { describe, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { SessionStore, type DeviceSession, type Session, type SessionData } from 'lix-cache-session';
import { lixSession } from 'lix-cache-session/express';
import { LixSessionStore } from 'lix-cache-session/express-session';
import session from 'express-session';

describe('SessionStore types', () => {
  test('without a schema, sessions hold any JSON fields plus SessionInfo', () => {
    const store = new SessionStore();
    expectTypeOf(store.get).returns.resolves.toEqualTypeOf<Session<SessionData> | null>();
    expectTypeOf<Session>().toHaveProperty('userId').toEqualTypeOf<string>();
    expectTypeOf<Session>().toHaveProperty('csrfToken').toEqualTypeOf<string>();
    expectTypeOf(store.list).returns.resolves.toEqualTypeOf<DeviceSession[]>();
  });

  test('a schema types the sessions, for create and get', () => {
    const Schema = z.object({ userId: z.string(), email: z.string(), roles: z.array(z.string()), createdAt: z.number(), lastAccess: z.number() });
    const store = new SessionStore({ schema: Schema });
    expectTypeOf(store.get).returns.resolves.toEqualTypeOf<Session<z.output<typeof Schema>> | null>();
    void store.create('user-1', { email: 'a@example.com', roles: [] });
    // @ts-expect-error roles must be an array of strings
    void store.create('user-1', { email: 'a@example.com', roles: 'admin' });
    // @ts-expect-error email is required by the schema
    void store.create('user-1', { roles: [] });
    // @ts-expect-error managed fields cannot be updated
    void store.update('id', { csrfToken: 'x' });
  });
});

describe('cookie options', () => {
  const store = new SessionStore();

  test('__Host- cookies must be Secure, on Path=/ and without a Domain', () => {
    lixSession({ store, cookie: { name: '__Host-sid' } });
    // @ts-expect-error a __Host- cookie must be secure
    lixSession({ store, cookie: { name: '__Host-sid', secure: false } });
    // @ts-expect-error a __Host- cookie has no domain
    lixSession({ store, cookie: { name: '__Host-sid', domain: 'example.com' } });
    // @ts-expect-error a __Host- cookie is on path '/'
    lixSession({ store, cookie: { name: '__Host-sid', path: '/app' } });
  });

  test('__Secure- cookies must be Secure; other names take any settings', () => {
    lixSession({ store, cookie: { name: '__Secure-sid', domain: 'example.com' } });
    // @ts-expect-error a __Secure- cookie must be secure
    lixSession({ store, cookie: { name: '__Secure-sid', secure: false } });
    lixSession({ store, cookie: { name: 'sid', secure: false, domain: 'example.com', path: '/app', sameSite: 'strict' } });
    // @ts-expect-error sameSite is 'lax', 'strict' or 'none'
    lixSession({ store, cookie: { sameSite: 'loose' } });
  });
});

describe('LixSessionStore', () => {
  test('is an express-session Store', () => {
    session({ store: new LixSessionStore(), secret: 'secret' });
    expectTypeOf<LixSessionStore>().toExtend<session.Store>();
  });
});
