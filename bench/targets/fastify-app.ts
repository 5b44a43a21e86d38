import fastifyCookie from '@fastify/cookie';
import fastifySession, { type FastifySessionObject } from '@fastify/session';
import { RedisStore } from 'connect-redis';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createClient } from 'redis';

/**
 * One Fastify app, three ways to know who is asking. MODE picks:
 * - none: no sessions at all (the framework's ceiling)
 * - lix: lix-cache-session/fastify on LIX_CACHE_URL
 * - fastify-session-redis: @fastify/session + @fastify/cookie with connect-redis on REDIS_URL
 * POST /login starts a session; GET /api/profile answers from it.
 */
const mode = process.env.MODE ?? 'none';
const user = { userId: 'user-1', username: 'alice', email: 'alice@example.com' };
const app = Fastify({ logger: false });

type Data = Record<string, unknown> | undefined;
// @fastify/session and lix-cache-session/fastify both declare `request.session`; a real app
// uses one of them, this file hosts both, so each side reads the request its own way.
const fastifySessionOf = (request: FastifyRequest) => (request as unknown as { session: FastifySessionObject & Record<string, unknown> }).session;
type Layer = { login(request: FastifyRequest, reply: FastifyReply): Promise<unknown>; data(request: FastifyRequest): Data };

async function sessionLayer(app: FastifyInstance): Promise<Layer> {
  switch (mode) {
    case 'none':
      return { login: async () => ({ message: 'no sessions' }), data: () => user };
    case 'lix':
      return (await import('./lix-fastify')).lixLayer(app, process.env.LIX_CACHE_URL!);
    case 'fastify-session-redis': {
      const client = createClient({ url: process.env.REDIS_URL });
      await client.connect();
      await app.register(fastifyCookie);
      // rolling (the default) saves the session, with a fresh TTL, on every response: the sliding session.
      await app.register(fastifySession, {
        secret: 'bench-secret-bench-secret-bench-secret',
        store: new RedisStore({ client }),
        saveUninitialized: false,
        rolling: true,
        cookie: { secure: false, httpOnly: true, maxAge: 3_600_000 },
      });
      return {
        login: async (request) => {
          await fastifySessionOf(request).regenerate();
          Object.assign(fastifySessionOf(request), user);
          return { message: 'Login successful' };
        },
        data: (request) => {
          // Fields sit on the session object itself (as in express-session).
          const session = fastifySessionOf(request);
          return session.userId ? session : undefined;
        },
      };
    }
    default:
      throw new Error(`Unknown MODE ${mode}: use none, lix or fastify-session-redis.`);
  }
}

const layer = await sessionLayer(app);
app.post('/login', (request, reply) => layer.login(request, reply));
app.get('/api/profile', async (request, reply) => {
  const data = layer.data(request);
  if (!data) return reply.code(401).send({ error: 'Not authenticated' });
  return { userId: data.userId, username: data.username, email: data.email };
});
app.get('/', async () => ({ mode }));

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
app.server.keepAliveTimeout = 72_000;
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
