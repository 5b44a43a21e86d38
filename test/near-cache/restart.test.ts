import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { LixCache } from 'lix-cache-sdk';
import { freePort } from '../helpers/free-port';
import { startRedis, type RedisProcess } from '../helpers/redis-process';
import { startServer, type ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/wait-for';

/**
 * The Lix server restarts (with --data-dir, so the data survives) under a client whose near
 * cache holds a key: while the server is gone the near cache holds and serves nothing; once it
 * is back the channel reconnects by itself, and changes made after the restart reach it.
 * Likewise when a Lix server on Redis loses its tracking connection: changes may go
 * unreported meanwhile, so it ends the event channels and its clients flush.
 */
describe('a near cache across a server restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lix-near-restart-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('flushes and bypasses while the server is down, then recovers', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const args = ['--data-dir', dir, '--fsync', 'always'];
    server = await startServer({ port, args });
    const url = `http://127.0.0.1:${port}`;
    const reader = new LixCache({ url, nearCache: true, maxRetries: 0, timeout: 1000 });
    const writer = new LixCache({ url, maxRetries: 0 });
    try {
      await writer.set('restart:k', 'before');
      await waitFor(() => reader.nearCacheStats()!.live, { what: 'the channel' });
      expect(await reader.get('restart:k')).toBe('before');
      expect(await reader.get('restart:k')).toBe('before');
      expect(reader.nearCacheStats()).toMatchObject({ hits: 1, entries: 1 });

      expect(await server.stop()).toBe(0);
      await waitFor(() => !reader.nearCacheStats()!.live, { what: 'the channel to go down' });
      expect(reader.nearCacheStats()).toMatchObject({ entries: 0, flushes: 1 });
      // Nothing is served from memory while the server cannot say what changed.
      await expect(reader.get('restart:k')).rejects.toThrow(/connect|ECONNREFUSED|reach/i);

      server = await startServer({ port, args });
      await waitFor(() => reader.nearCacheStats()!.live, { what: 'the channel to reconnect', timeoutMs: 10_000 });
      expect(await reader.get('restart:k')).toBe('before'); // from disk, through the server
      expect(await reader.get('restart:k')).toBe('before');
      const { hits } = reader.nearCacheStats()!;
      await writer.set('restart:k', 'after');
      await waitFor(async () => (await reader.get('restart:k')) === 'after', { what: 'the change after the restart' });
      expect(reader.nearCacheStats()!.hits).toBeGreaterThanOrEqual(hits);
    } finally {
      await Promise.all([reader.close(), writer.close()]);
    }
  });
});

describe('a near cache when its server loses the Redis tracking connection', () => {
  let redis: RedisProcess;
  let server: ServerProcess;
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
  });

  it('is flushed, then fed again once tracking is back', { timeout: 60_000 }, async () => {
    redis = await startRedis();
    server = await startServer({ env: { LIX_STORE: `${redis.url}?keyPrefix=feed:` } });
    const reader = new LixCache({ url: server.url, nearCache: true, maxRetries: 0 });
    const writer = new LixCache({ url: server.url, maxRetries: 0 });
    const admin = new Redis(redis.url);
    try {
      await writer.set('feed:k', 1);
      await waitFor(() => reader.nearCacheStats()!.live, { what: 'the channel' });
      expect(await reader.get('feed:k')).toBe(1);
      expect(await reader.get('feed:k')).toBe(1);
      expect(reader.nearCacheStats()).toMatchObject({ hits: 1, entries: 1, flushes: 0 });

      // The server's tracking connection is its only pubsub client on this Redis.
      expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBe(1);
      await waitFor(() => reader.nearCacheStats()!.flushes === 1, { what: 'the near cache to flush' });
      expect(reader.nearCacheStats()!.entries).toBe(0);
      await waitFor(() => reader.nearCacheStats()!.live, { what: 'the channel to come back', timeoutMs: 10_000 });
      await waitFor(() => /the change feed is down: ending every event channel/.test(server.logs()), { what: 'the server to log it' });

      expect(await reader.get('feed:k')).toBe(1);
      await writer.set('feed:k', 2);
      await waitFor(async () => (await reader.get('feed:k')) === 2, { what: 'a change after the feed came back' });
    } finally {
      admin.disconnect();
      await Promise.all([reader.close(), writer.close()]);
    }
  });
});
