import { createHash } from 'node:crypto';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore, type SessionStoreOptions } from 'lix-cache-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, startRedisCluster, type RedisCluster, type RedisProcess } from '../../../test/helpers/redis-process';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/** Rounds per case: each is a fresh user, so a race that a round happens to miss has more chances. */
const ROUNDS = 3;

// maxSessionsPerUser and exclusive under parallel logins, on every engine a store can sit on:
// in-process memory, a real server process, a real redis-server and a 3-master Redis Cluster
// (where a user's session keys live in different slots).
describe.each(['memory', 'http', 'redis', 'cluster'] as const)('session caps under parallel logins over %s', (backend) => {
  let server: ServerProcess | undefined;
  let redis: RedisProcess | undefined;
  let cluster: RedisCluster | undefined;
  let cache: LixCache;
  let stores = 0;

  beforeAll(async () => {
    if (backend === 'http') server = await startServer();
    if (backend === 'redis') redis = await startRedis();
    if (backend === 'cluster') cluster = await startRedisCluster();
    const url = server?.url ?? redis?.url ?? cluster?.url ?? 'memory://session-caps-test';
    cache = new LixCache({ url });
  }, 60_000);

  afterAll(async () => {
    await cache?.close();
    await Promise.all([server?.stop(), redis?.stop(), cluster?.stop()]);
  });

  function store(options: SessionStoreOptions): SessionStore {
    const n = ++stores;
    return new SessionStore({ cache, prefix: `caps${n}:`, rememberMe: { prefix: `capsr${n}:` }, ...options });
  }

  /** `count` logins of `userId` at once; each resolves its id and createdAt. */
  function parallelLogins(sessions: SessionStore, userId: string, count: number) {
    return Promise.all(
      Array.from({ length: count }, (_, i) => sessions.open(userId, { n: i }).then(({ id, session }) => ({ id, createdAt: session.createdAt }))),
    );
  }

  /** The ids among `ids` whose session still works. */
  async function working(sessions: SessionStore, ids: string[]): Promise<string[]> {
    const found = await Promise.all(ids.map((id) => sessions.get(id)));
    return ids.filter((_, i) => found[i] !== null);
  }

  /** The logins a sequential run would keep: the newest `cap` by (createdAt, stored key). */
  function newest(logins: { id: string; createdAt: number }[], cap: number): string[] {
    const key = (id: string) => sha256(id);
    return [...logins]
      .sort((a, b) => b.createdAt - a.createdAt || (key(a.id) < key(b.id) ? 1 : -1))
      .slice(0, cap)
      .map((login) => login.id)
      .sort();
  }

  it('maxSessionsPerUser: 2 with 20 parallel logins leaves exactly the 2 newest working', async () => {
    const sessions = store({ maxSessionsPerUser: 2 });
    for (let round = 0; round < ROUNDS; round++) {
      const userId = `capped-${round}`;
      const logins = await parallelLogins(sessions, userId, 20);
      const alive = await working(
        sessions,
        logins.map((login) => login.id),
      );
      expect(alive.sort()).toEqual(newest(logins, 2));
      expect(await sessions.list(userId)).toHaveLength(2);
    }
  }, 60_000);

  it('exclusive with 10 parallel logins leaves exactly the newest one working', async () => {
    const sessions = store({ exclusive: true });
    for (let round = 0; round < ROUNDS; round++) {
      const userId = `exclusive-${round}`;
      // An earlier device: signed out by the burst (it may share a millisecond with it, so it takes part in the order).
      const before = await sessions.open(userId, {}).then(({ id, session }) => ({ id, createdAt: session.createdAt }));
      const logins = [before, ...(await parallelLogins(sessions, userId, 10))];
      const alive = await working(
        sessions,
        logins.map((login) => login.id),
      );
      expect(alive).toEqual(newest(logins, 1));
      expect(await sessions.list(userId)).toHaveLength(1);
    }
  }, 60_000);

  it('exclusive: of 10 parallel logins with remember-me, only the surviving session’s token still signs in', async () => {
    const sessions = store({ exclusive: true });
    for (let round = 0; round < ROUNDS; round++) {
      const userId = `remembered-${round}`;
      // What the middleware's login does: open, then issue a token linked to the new session.
      const logins = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const { id, session } = await sessions.open(userId, {});
          return { id, createdAt: session.createdAt, token: await sessions.issueRememberToken(userId, id) };
        }),
      );
      const [winner] = newest(logins, 1);
      const results = await Promise.all(logins.map((login) => sessions.useRememberToken(login.token)));
      const valid = logins.filter((_, i) => results[i]!.status === 'valid');
      expect(valid.map((login) => login.id)).toEqual([winner]);
    }
  }, 60_000);

  it('other users’ sessions are untouched by a burst', async () => {
    const sessions = store({ maxSessionsPerUser: 1 });
    const bystanders = await Promise.all(['a', 'b', 'c'].map((user) => sessions.create(`bystander-${user}`, {})));
    await parallelLogins(sessions, 'busy', 10);
    expect(await working(sessions, bystanders)).toHaveLength(3);
    expect(await sessions.list('busy')).toHaveLength(1);
  }, 60_000);
});
