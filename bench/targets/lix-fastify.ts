import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { lixSession } from 'lix-cache-session/fastify';

/** The lix-cache-session/fastify side of fastify-app.ts, apart so the other modes never load it. */
export async function lixLayer(app: FastifyInstance, url: string) {
  const store = new SessionStore({ cache: new LixCache({ url }), ttl: 3600 });
  await app.register(lixSession, { store, cookie: { secure: false } });
  type LixRequest = { session?: Record<string, unknown>; login(user: object): Promise<unknown> };
  return {
    login: async (request: FastifyRequest, _reply: FastifyReply) => {
      await (request as unknown as LixRequest).login({ userId: 'user-1', username: 'alice', email: 'alice@example.com' });
      return { message: 'Login successful' };
    },
    data: (request: FastifyRequest) => (request as unknown as LixRequest).session,
  };
}
