import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type ServerProcess, startServer } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { jsonCall as call } from './http-client';

// Spawns the built CLI (packages/server/dist): run `npm run build` first (root `npm test` does).

const root = mkdtempSync(join(tmpdir(), 'lix-server-data-'));
let dirs = 0;
const freshDir = (): string => join(root, `d${++dirs}`);
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill()));
  rmSync(root, { recursive: true, force: true });
});

async function lix(dataDir: string, args: string[] = []): Promise<ServerProcess> {
  const server = await startServer({ args: ['--data-dir', dataDir, ...args], env: { LOG_LEVEL: 'info' } });
  servers.push(server);
  return server;
}

/**
 * Write keys over HTTP with 16 concurrent clients until at least `count` are
 * acknowledged, then SIGKILL the server while requests are still in flight.
 * Returns when each acknowledged key was acknowledged, and when the kill happened.
 */
async function writeThenKill(server: ServerProcess, count: number): Promise<{ acked: Map<string, number>; killedAt: number }> {
  const acked = new Map<string, number>();
  let next = 0;
  let stop = false;
  const clients = Array.from({ length: 16 }, async () => {
    while (!stop) {
      const key = `k:${next++}`;
      try {
        const { status } = await call(server, '/cache/set', { key, value: { key, pad: 'x'.repeat(100) } });
        if (status === 200) acked.set(key, Date.now());
      } catch {
        return; // the server is gone
      }
    }
  });
  await waitFor(() => acked.size >= count, { timeoutMs: 20_000, what: `${count} acknowledged writes` });
  await server.kill();
  const killedAt = Date.now();
  stop = true;
  await Promise.all(clients);
  return { acked, killedAt };
}

async function missing(server: ServerProcess, keys: string[]): Promise<string[]> {
  const absent: string[] = [];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const { json } = await call(server, '/cache/batch', { operations: chunk.map((key) => ({ op: 'get', key })) });
    json.results.forEach((result: { key: string; value: unknown }) => {
      if (result.value === null) absent.push(result.key);
      else expect(result.value).toMatchObject({ key: result.key });
    });
  }
  return absent;
}

describe('lix-cache-server --data-dir', () => {
  it('--fsync always: after kill -9 every acknowledged write is back', async () => {
    const dir = freshDir();
    const { acked } = await writeThenKill(await lix(dir, ['--fsync', 'always']), 600);
    const restarted = await lix(dir);
    expect(await missing(restarted, [...acked.keys()])).toStrictEqual([]);
    // pino writes asynchronously: the line may come after /health answers.
    await waitFor(() => /loaded \d+ keys from .* in \d+ ms/.test(restarted.logs()), { what: 'the "loaded" line' });
    const stats = await call(restarted, '/cache/stats');
    expect(stats.json.size).toBeGreaterThanOrEqual(acked.size);
  });

  it('--fsync everysec (the default): after kill -9 at most the last second of acknowledged writes is lost', async () => {
    const dir = freshDir();
    const { acked, killedAt } = await writeThenKill(await lix(dir), 600);
    const restarted = await lix(dir);
    const absent = new Set(await missing(restarted, [...acked.keys()]));
    expect([...acked].filter(([key, at]) => absent.has(key) && at < killedAt - 1000)).toStrictEqual([]);
  });

  it('snapshots taken while writes stream in lose nothing that was acknowledged', async () => {
    const dir = freshDir();
    const { acked } = await writeThenKill(await lix(dir, ['--fsync', 'always', '--snapshot-interval', '20']), 1000);
    expect(readdirSync(dir)).toContain('snapshot.lix');
    const restarted = await lix(dir);
    expect(await missing(restarted, [...acked.keys()])).toStrictEqual([]);
  });

  it('SIGTERM writes everything; TTLs, merges and deletes survive, expired keys do not come back', async () => {
    const dir = freshDir();
    const first = await lix(dir);
    await call(first, '/cache/batch', {
      operations: [
        { op: 'set', key: 'session:1', value: { user: 1 }, ttl: 600, tags: ['user:1'] },
        { op: 'set', key: 'short', value: 1, ttl: 0.2 },
        { op: 'set', key: 'deleted', value: 1 },
        { op: 'delete', key: 'deleted' },
        { op: 'incr', key: 'counter', amount: 3 },
      ],
    });
    await call(first, '/cache/merge', { key: 'session:1', value: { theme: 'dark' } });
    expect(await first.stop('SIGTERM')).toBe(0);
    const expiredBy = Date.now() + 250;
    await waitFor(() => Date.now() > expiredBy, { what: 'the short TTL to pass' });

    const second = await lix(dir);
    const session = await call(second, '/cache/get?key=session:1');
    expect(session.json.value).toStrictEqual({ user: 1, theme: 'dark' });
    expect(session.json.ttl).toBeGreaterThan(500);
    expect((await call(second, '/cache/get?key=short')).status).toBe(404);
    expect((await call(second, '/cache/get?key=deleted')).status).toBe(404);
    expect((await call(second, '/cache/get?key=counter')).json.value).toBe(3);
    expect((await call(second, '/cache/scan?tag=user:1&keys_only=true')).json.keys).toStrictEqual(['session:1']);
  });

  it('drops a torn last record with a log line saying how many bytes, and refuses a damaged log', async () => {
    const dir = freshDir();
    const first = await lix(dir);
    for (let i = 0; i < 5; i++) await call(first, '/cache/set', { key: `k${i}`, value: 'abcdefgh' });
    expect(await first.stop('SIGTERM')).toBe(0);
    const log = join(dir, readdirSync(dir).find((name) => name.startsWith('log-'))!);
    const whole = readFileSync(log);
    writeFileSync(log, whole.subarray(0, whole.length - 3));

    const second = await lix(dir);
    await waitFor(() => /dropped \d+ bytes at the end of .*log-\d+\.lix: a record cut short by a crash/.test(second.logs()), { what: 'the "dropped" line' });
    expect((await call(second, '/cache/get?key=k3')).status).toBe(200);
    expect((await call(second, '/cache/get?key=k4')).status).toBe(404);
    expect(await second.stop('SIGTERM')).toBe(0);

    const damaged = readFileSync(log);
    const at = damaged.indexOf('abcdefgh') + 1;
    damaged[at] = damaged[at]! ^ 0xff;
    writeFileSync(log, damaged);
    const refused = await runCli(['--data-dir', dir, '--port', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/could not start: Refusing to start: .*log-\d+\.lix is damaged at byte \d+/);
  });

  it('rejects --data-dir with a Redis store and a bad --fsync, naming the setting', async () => {
    const redis = await runCli(['--data-dir', freshDir(), '--store', 'redis://localhost:6379']);
    expect(redis.code).toBe(1);
    expect(redis.stderr).toMatch(/--data-dir \(LIX_DATA_DIR\) makes the memory store durable/);
    const fsync = await runCli(['--fsync', 'sometimes'], { LIX_DATA_DIR: freshDir() });
    expect(fsync.code).not.toBe(0);
    expect(fsync.stderr).toMatch(/--fsync must be one of always, everysec, no/);
    const env = await runCli([], { LIX_DATA_DIR: freshDir(), LIX_FSYNC: 'sometimes' });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/LIX_FSYNC must be one of always, everysec, no/);
  });
});
