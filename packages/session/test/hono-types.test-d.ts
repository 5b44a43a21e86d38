import { Hono } from 'hono';
import { describe, expectTypeOf, test } from 'vitest';
import { SessionStore, type Session, type SessionData } from 'lix-cache-session';
import { lixSession, login, logout, logoutAll, type GuestSession, type LixSessionEnv } from 'lix-cache-session/hono';

type Data = { userId: string; username: string; roles: string[]; createdAt: number; lastAccess: number; cart?: string[] };

describe('lix-cache-session/hono types', () => {
  test('LixSessionEnv types c.get / c.var, and login(c, user) takes and returns the app\'s session data', () => {
    const store = new SessionStore<Data>({ cache: 'memory://types' });
    const app = new Hono<LixSessionEnv<Data>>();
    app.use(lixSession({ store, guest: { keep: ['cart'] } }));
    app.post('/login', async (c) => {
      expectTypeOf(c.get('session')).toEqualTypeOf<Session<Data> | undefined>();
      expectTypeOf(c.var.sessionId).toEqualTypeOf<string | undefined>();
      expectTypeOf(c.get('guest')).toEqualTypeOf<GuestSession<Data> | undefined>();
      const session = await login(c, { userId: 'u', username: 'alice', roles: [] }, { rememberMe: true });
      expectTypeOf(session).toEqualTypeOf<Session<Data>>();
      // @ts-expect-error username is required by the session data
      await login(c, { userId: 'u', roles: [] });
      // @ts-expect-error roles must be string[]
      await login(c, { userId: 'u', username: 'alice', roles: 'admin' });
      expectTypeOf(logout(c)).toEqualTypeOf<Promise<void>>();
      expectTypeOf(logoutAll(c)).toEqualTypeOf<Promise<number>>();
      return c.json({ csrfToken: session.csrfToken });
    });
  });

  test('the middleware adds its variables to a chained app, and other bindings combine', () => {
    const store = new SessionStore<Data>({ cache: 'memory://types' });
    const chained = new Hono().use(lixSession({ store }));
    chained.get('/', (c) => {
      expectTypeOf(c.get('session')).toEqualTypeOf<Session<Data> | undefined>();
      return c.text('ok');
    });
    const combined = new Hono<{ Bindings: { TOKEN: string } } & LixSessionEnv<Data>>();
    combined.get('/', (c) => {
      expectTypeOf(c.env.TOKEN).toEqualTypeOf<string>();
      expectTypeOf(c.get('session')).toEqualTypeOf<Session<Data> | undefined>();
      return c.text('ok');
    });
  });

  test('without a data type, sessions hold SessionData', () => {
    const app = new Hono<LixSessionEnv>();
    app.get('/', async (c) => {
      expectTypeOf(c.get('session')).toEqualTypeOf<Session<SessionData> | undefined>();
      expectTypeOf(await login(c, { userId: 'u', anything: 1 })).toEqualTypeOf<Session<SessionData>>();
      return c.text('ok');
    });
  });

  test('options are checked at compile time', () => {
    const store = new SessionStore<Data>({ cache: 'memory://types' });
    // @ts-expect-error a __Host- cookie cannot have a domain
    lixSession({ store, cookie: { name: '__Host-sid', domain: 'example.com' } });
    // @ts-expect-error clientIp is a function of the context
    lixSession({ store, clientIp: '127.0.0.1' });
  });
});
