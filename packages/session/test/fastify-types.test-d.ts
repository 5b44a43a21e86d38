import Fastify, { type FastifyRequest } from 'fastify';
import { SessionStore, type GuestSession, type Session } from 'lix-cache-session';
import { csrfProtection, lixSession, sessionErrorHandler, type RegisteredSessionData } from 'lix-cache-session/fastify';
import { describe, expectTypeOf, test } from 'vitest';
import type { AppSessionData, AppSessionStore } from '../../../examples/shared/src/sessions';

/*
 * `Register` is a global declaration merge, and this repository type-checks in one program
 * (vitest's typecheck runs tsc on the root tsconfig), which holds the Fastify example's
 * registration too. Two registrations of `store` must agree, so this one names the same
 * store type: the checks below follow whatever the registered store's schema says.
 *
 * That program also holds @fastify/session's typing (its store is tested here), which
 * declares `request.session` and a `Session` interface in 'fastify' too: these checks also
 * guard against our typing resolving to theirs (it did once, as `any`).
 */
declare module 'lix-cache-session/fastify' {
  interface Register {
    store: AppSessionStore;
  }
}

type AppData = AppSessionData;

describe('request typing from the registered store', () => {
  test('request.session, request.guest and request.sessionId', () => {
    expectTypeOf<FastifyRequest['session']>().not.toBeAny();
    expectTypeOf<FastifyRequest['session']>().toEqualTypeOf<Session<AppData> | undefined>();
    expectTypeOf<NonNullable<FastifyRequest['session']>['roles']>().toEqualTypeOf<string[]>();
    expectTypeOf<RegisteredSessionData>().toEqualTypeOf<AppData>();
    expectTypeOf<FastifyRequest['guest']>().toEqualTypeOf<GuestSession<AppData> | undefined>();
    expectTypeOf<FastifyRequest['sessionId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<NonNullable<FastifyRequest['guest']>['theme']>().toEqualTypeOf<'light' | 'dark' | undefined>();
    expectTypeOf<NonNullable<FastifyRequest['guest']>['cart']>().toEqualTypeOf<string[] | undefined>();
  });

  test('request.login takes the schema\'s data and resolves the typed session', () => {
    const app = Fastify();
    app.post('/login', async (request) => {
      const session = await request.login({ userId: 'user-1', username: 'alice', email: 'alice@example.com', roles: ['user'] }, { rememberMe: true });
      expectTypeOf(session).not.toBeAny();
      expectTypeOf(session).toEqualTypeOf<Session<AppData>>();
      // @ts-expect-error email is required by the schema
      await request.login({ userId: 'user-1', username: 'alice', roles: [] });
      // @ts-expect-error roles must be an array of strings
      await request.login({ userId: 'user-1', username: 'alice', email: 'a@example.com', roles: 'admin' });
      // @ts-expect-error rememberMe is a boolean
      await request.login({ userId: 'user-1', username: 'alice', email: 'a@example.com', roles: [] }, { rememberMe: 'yes' });
      session.theme = 'dark';
      // @ts-expect-error theme is 'light' or 'dark'
      session.theme = 'purple';
      if (request.session) {
        request.session.cart = ['book'];
        // @ts-expect-error the cart is a list of strings
        request.session.cart = [1];
      }
      if (request.guest) {
        request.guest.cart = ['book'];
        // @ts-expect-error the cart is a list of strings
        request.guest.cart = [1];
        // @ts-expect-error the guest's CSRF token is read-only
        request.guest.csrfToken = 'x';
      }
      expectTypeOf(request.logout).returns.resolves.toBeVoid();
      expectTypeOf(request.logoutAll).returns.resolves.toBeNumber();
      return { ok: true };
    });
  });

  test('the plugin options, the CSRF hook and the error handler fit Fastify\'s API', () => {
    const app = Fastify();
    const store = new SessionStore();
    void app.register(lixSession, { store, cookie: { secure: false }, guest: { keep: ['cart'] }, rememberMe: { loadUser: (userId) => ({ userId }) } });
    // @ts-expect-error the store is required
    void app.register(lixSession, { cookie: { secure: false } });
    // @ts-expect-error sameSite is 'lax', 'strict' or 'none'
    void app.register(lixSession, { store, cookie: { sameSite: 'loose' } });
    app.addHook('preHandler', csrfProtection());
    app.post('/one', { preHandler: csrfProtection({ header: 'x-xsrf-token' }) }, async () => ({ ok: true }));
    app.setErrorHandler(sessionErrorHandler());
  });
});
