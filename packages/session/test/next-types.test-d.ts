import { describe, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { SessionStore, type Session } from 'lix-cache-session';
import { nextSession, type NextRequestSession } from 'lix-cache-session/next';

describe('lix-cache-session/next types', () => {
  const Schema = z.object({
    userId: z.string(),
    username: z.string(),
    theme: z.enum(['light', 'dark']).optional(),
    cart: z.array(z.string()).optional(),
    createdAt: z.number(),
    lastAccess: z.number(),
  });
  type Data = z.output<typeof Schema>;
  const sessions = nextSession({ store: new SessionStore({ schema: Schema }), cookie: { secure: false }, guest: { keep: ['cart'] } });

  test('the store types the session, the guest and login', () => {
    expectTypeOf(sessions.get).returns.resolves.toEqualTypeOf<NextRequestSession<Data>>();
    expectTypeOf<NextRequestSession<Data>['session']>().toEqualTypeOf<Session<Data> | undefined>();
    expectTypeOf<NonNullable<NextRequestSession<Data>['guest']>['cart']>().toEqualTypeOf<string[] | undefined>();
    sessions.route(async (_request, s) => {
      if (s.session) {
        s.session.theme = 'dark';
        // @ts-expect-error the schema allows 'light' or 'dark' only
        s.session.theme = 'blue';
      }
      await s.login({ userId: 'user-1', username: 'alice' });
      // @ts-expect-error username is required by the schema
      await s.login({ userId: 'user-1' });
      return Response.json({});
    });
  });

  test('route() keeps the context type of the handler, as Next.js checks it', () => {
    const DELETE = sessions.route(async (_request, _s, { params }: { params: Promise<{ id: string }> }) => Response.json(await params));
    expectTypeOf(DELETE).parameters.toEqualTypeOf<[Request, { params: Promise<{ id: string }> }]>();
    expectTypeOf(DELETE).returns.resolves.toEqualTypeOf<Response>();
  });

  test('a __Host- cookie name must stay secure', () => {
    // @ts-expect-error __Host- cookies must be Secure
    nextSession({ store: new SessionStore(), cookie: { name: '__Host-app', secure: false } });
  });
});
