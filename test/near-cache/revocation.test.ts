import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExample, type ExampleProcess } from '../../examples/express-sessions/test/example-process';
import { CookieClient } from '../helpers/cookie-jar';
import { startRedis, type RedisProcess } from '../helpers/redis-process';
import { startServer, type ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/wait-for';

/**
 * Two app processes (the Express example with LIX_NEAR_CACHE=true) serve the same users.
 * A session revoked through app A (logout, a device revoked, logout everywhere, a stolen
 * remember-me token replayed) is refused by app B, although B holds it in its near cache:
 * first behind one Lix server, then behind two Lix servers sharing one Redis (the
 * invalidation crosses Redis's client tracking). B is checked to serve from its near
 * cache, so the refusal proves the pushed invalidation, not a fresh read.
 */
const SID = 'lix.sid';
const REMEMBER = 'lix.remember';
// Bounded, not timed: an invalidation that never arrives leaves B serving the session for its whole TTL.
const SEEN = { timeoutMs: 3000, intervalMs: 10 };

interface Topology {
  name: string;
  start(): Promise<{ servers: [ServerProcess, ServerProcess]; stop(): Promise<void> }>;
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'one Lix server',
    async start() {
      const server = await startServer();
      return { servers: [server, server], stop: async () => void (await server.stop()) };
    },
  },
  {
    name: 'two Lix servers on one Redis',
    async start() {
      const redis: RedisProcess = await startRedis();
      const env = { LIX_STORE: `${redis.url}?keyPrefix=revoke:` };
      const servers: [ServerProcess, ServerProcess] = [await startServer({ env }), await startServer({ env })];
      return {
        servers,
        stop: async () => {
          await Promise.all(servers.map((server) => server.stop()));
          await redis.stop();
        },
      };
    },
  },
];

/** Session reads B's Lix server has answered so far (`get` commands). */
async function gets(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/lix_operations_total\{op="get"\} (\d+)/.exec(text)?.[1] ?? NaN);
}

describe.each(TOPOLOGIES)('revocation across app processes with near caches: $name', (topology) => {
  let stack: Awaited<ReturnType<Topology['start']>>;
  let a: ExampleProcess;
  let b: ExampleProcess;

  beforeAll(async () => {
    stack = await topology.start();
    [a, b] = await Promise.all([startExample(stack.servers[0].url, { LIX_NEAR_CACHE: 'true' }), startExample(stack.servers[1].url, { LIX_NEAR_CACHE: 'true' })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await stack?.stop();
  });

  async function signIn(app: ExampleProcess, username: string, extra: Record<string, unknown> = {}): Promise<CookieClient> {
    const client = new CookieClient(app.url);
    const login = await client.post('/api/login', { username, password: username === 'alice' ? 'wonderland' : username === 'bob' ? 'builder' : 'admin-carol', ...extra });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    return client;
  }

  /**
   * B serves the session from its near cache: three requests in a row reach no read to its Lix
   * server. (The first requests miss: the first read, and the read after the session's first
   * touch, which changes its TTL and so invalidates it.)
   */
  async function servedFromNearCache(client: CookieClient): Promise<void> {
    await waitFor(
      async () => {
        const before = await gets(stack.servers[1]);
        for (let i = 0; i < 3; i++) expect((await client.get('/api/profile')).status).toBe(200);
        return (await gets(stack.servers[1])) === before;
      },
      { timeoutMs: 3000, what: 'B to serve the session from its near cache' },
    );
  }

  const refused = async (client: CookieClient) => (await client.get('/api/profile')).status === 401;

  it('logout in A: B refuses the same cookie', async () => {
    const browser = await signIn(a, 'alice');
    const onAppB = browser.clone(b.url); // the same browser's cookies, sent to app B
    await servedFromNearCache(onAppB);
    expect((await browser.post('/api/logout')).status).toBe(200);
    await waitFor(() => refused(onAppB), { ...SEEN, what: 'B to refuse the logged-out session' });
  });

  it('a device revoked in A is signed out in B', async () => {
    const laptop = await signIn(a, 'bob');
    const phone = await signIn(b, 'bob', { deviceName: 'Phone on B' });
    await servedFromNearCache(phone);
    const list = (await laptop.get('/api/sessions')).body.sessions as { id: string; deviceName: string }[];
    const target = list.find((session) => session.deviceName === 'Phone on B')!;
    expect((await laptop.delete(`/api/sessions/${encodeURIComponent(target.id)}`)).status).toBe(200);
    await waitFor(() => refused(phone), { ...SEEN, what: 'B to refuse the revoked device' });
    expect((await laptop.get('/api/profile')).status).toBe(200);
  });

  it('logout everywhere in A signs the user out in B', async () => {
    const laptop = await signIn(a, 'carol');
    const phone = await signIn(b, 'carol');
    await servedFromNearCache(phone);
    expect((await laptop.post('/api/logout-all')).status).toBe(200);
    await waitFor(() => refused(phone), { ...SEEN, what: 'B to refuse after logout everywhere' });
  });

  it('a stolen remember-me token replayed in A ends the victim’s session in B', async () => {
    const phone = await signIn(b, 'alice', { rememberMe: true });
    const stolen = phone.cookies.get(REMEMBER)!;
    expect(stolen).toBeDefined();
    // The browser restarts: the token signs alice in again on B (and rotates).
    phone.cookies.delete(SID);
    expect((await phone.get('/api/profile')).status).toBe(200);
    await servedFromNearCache(phone);
    const thief = new CookieClient(a.url);
    thief.cookies.set(REMEMBER, stolen);
    expect((await thief.get('/api/profile')).status).toBe(401);
    await waitFor(() => refused(phone), { ...SEEN, what: 'B to end the session after the theft' });
  });
});
