import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LixCache } from 'lix-cache-sdk';
import { freePort } from '../helpers/free-port';
import { startServer, type ServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/wait-for';

/**
 * The Lix server restarts (with --data-dir, so the data survives) under a client whose near
 * cache holds a key: while the server is gone the near cache holds and serves nothing; once it
 * is back the channel reconnects by itself, and changes made after the restart reach it.
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
