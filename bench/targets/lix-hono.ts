import type { Context, Hono } from 'hono';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { lixSession, login, type LixSessionEnv } from 'lix-cache-session/hono';

/** The lix-cache-session/hono side of hono-app.ts, apart so the other modes never load it. */
export async function lixLayer(app: Hono, url: string) {
  const store = new SessionStore({ cache: new LixCache({ url }), ttl: 3600 });
  app.use('*', lixSession({ store, cookie: { secure: false } }));
  return {
    login: async (c: Context<LixSessionEnv>) => {
      await login(c, { userId: 'user-1', username: 'alice', email: 'alice@example.com' });
      return c.json({ message: 'Login successful' });
    },
    data: (c: Context<LixSessionEnv>) => c.get('session'),
  };
}
