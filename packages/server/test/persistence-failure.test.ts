import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../../test/helpers/server-process';
import { mountSmallFilesystem } from '../../../test/helpers/small-filesystem';
import { waitFor } from '../../../test/helpers/wait-for';
import { jsonCall as call } from './http-client';

// Spawns the built CLI (packages/server/dist): run `npm run build` first (root `npm test` does).

describe('the server when its append-only log cannot be written (a real full disk)', () => {
  it.each(['everysec', 'always'] as const)('under %s: 503 persistence_failed for writes, reads go on, then recovery by itself; acknowledged writes survive a restart', { timeout: 60_000 }, async (fsync) => {
    const fs = mountSmallFilesystem(1024 * 1024);
    const dataDir = join(fs.dir, 'data');
    try {
      let server = await startServer({ args: ['--data-dir', dataDir, '--fsync', fsync], env: { LOG_LEVEL: 'info' } });
      const acknowledged: string[] = [];
      expect((await call(server, '/cache/set', { key: 'before', value: 'kept' })).status).toBe(200);
      acknowledged.push('before');
      fs.fill();

      let refused: { status: number; json: any } | undefined;
      for (let i = 0; i < 3000 && refused === undefined; i++) {
        const answer = await call(server, '/cache/set', { key: `k${i}`, value: { i, pad: 'x'.repeat(200) } });
        if (answer.status === 200) acknowledged.push(`k${i}`);
        else refused = answer;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(refused, 'a write was refused within 3000 tries').toBeDefined();
      expect(refused!.status).toBe(503);
      expect(refused!.json.code).toBe('persistence_failed');
      expect(refused!.json.error).toMatch(/the append-only log .*log-\d+\.lix cannot be written \(ENOSPC: no space left on device/);

      // Reads answer; a batch refuses its writes and runs its reads; /health says why.
      expect(await call(server, '/cache/get?key=before')).toMatchObject({ status: 200, json: { value: 'kept' } });
      const batch = await call(server, '/cache/batch', { operations: [{ op: 'get', key: 'before' }, { op: 'delete', key: 'before' }] });
      expect(batch.status).toBe(200);
      expect(batch.json.results[0]).toMatchObject({ value: 'kept' });
      expect(batch.json.results[1]).toMatchObject({ error: { code: 'persistence_failed' } });
      const health = await call(server, '/health');
      expect(health.status).toBe(503);
      // Public: the code and a generic message; the file and the OS error are in the log.
      expect(health.json).toMatchObject({ status: 'unhealthy', code: 'persistence_failed', error: expect.stringContaining('see the server log') });

      fs.free();
      await waitFor(async () => (await call(server, '/cache/set', { key: 'after', value: 1 })).status === 200, { what: 'writes to be accepted again', timeoutMs: 10_000 });
      acknowledged.push('after');
      expect((await call(server, '/health')).status).toBe(200);
      const logs = server.logs();
      expect(logs).toMatch(/"level":50.*Writing the append-only log .*log-\d+\.lix failed: ENOSPC/);
      expect(logs).toMatch(/"level":40.*is written again after failing for \d+ ms; writes are accepted again/);
      expect(await server.stop()).toBe(0);

      server = await startServer({ args: ['--data-dir', dataDir, '--fsync', fsync] });
      const { json } = await call(server, '/cache/batch', { operations: acknowledged.map((key) => ({ op: 'exists', key })) });
      expect(json.results.filter((result: { exists: boolean }) => !result.exists)).toEqual([]);
      expect(await server.stop()).toBe(0);
    } finally {
      fs.unmount();
    }
  });
});
