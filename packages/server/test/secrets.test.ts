import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../test/helpers/redis-process';
import { runCli, startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { client } from './http-client';

const PASSWORD = 's3cret-pw-71f0';

describe('no secrets or topology in the open', () => {
  let redis: RedisProcess;
  let server: ServerProcess;

  beforeAll(async () => {
    redis = await startRedis();
    // Redis's default user has nopass, so any password is accepted: a real AUTH with a real secret in the URL.
    server = await startServer({ args: ['--store', `redis://default:${PASSWORD}@127.0.0.1:${redis.port}`], env: { LIX_API_KEYS: 'k' } });
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
  });

  it('logs the store URL without its password, and /health without a key names no host or port', async () => {
    const call = client(server.url, { authorization: 'Bearer k' });
    expect((await call('POST', '/cache/set', { key: 'a', value: 1 })).status).toBe(200);
    await waitFor(() => server.logs().includes('Lix Cache started'), { what: 'the start-up line' });
    expect(server.logs()).toContain(`"store":"redis://***@127.0.0.1:${redis.port}"`);

    await redis.stop();
    await waitFor(async () => (await fetch(`${server.url}/health`)).status === 503, { what: '/health to report Redis down', timeoutMs: 10_000 });
    const anonymous = await client(server.url)('GET', '/health');
    expect(anonymous.body).toMatchObject({ status: 'unhealthy', code: 'unavailable', error: expect.stringContaining('see the server log') });
    expect(anonymous.text).not.toContain('127.0.0.1');
    expect(anonymous.text).not.toContain(String(redis.port));
    // With a key, the detail is there; and the log has it either way.
    const keyed = await call('GET', '/health');
    expect(keyed.body.error).toMatch(/Redis at 127\.0\.0\.1:\d+ is unreachable/);
    await waitFor(() => /Redis at 127\.0\.0\.1:\d+ is unreachable/.test(server.logs()), { what: 'the cause in the log' });
    const failed = await call('GET', '/cache/get?key=a');
    expect(failed.status).toBe(503);

    for (const text of [anonymous.text, keyed.text, failed.text, server.logs()]) expect(text).not.toContain(PASSWORD);
  });

  it('refuses a bad store URL without printing its password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lix-secrets-'));
    const cases: [string[], Record<string, string>][] = [
      [['--store', `ftp://:${PASSWORD}@cache.example`], {}],
      [[], { LIX_STORE: `ftp://user:${PASSWORD}@cache.example` }],
      [['--store', `redis://:${PASSWORD}@cache.example:notaport`], {}],
      [['--data-dir', dir, '--store', `redis://user:${PASSWORD}@127.0.0.1:1`], {}],
    ];
    // One at a time, with room: each is a node start-up, and the test machine may be busy.
    for (const [args, env] of cases) {
      const run = await runCli(args, env, 30_000);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain('***@');
      expect(run.stderr + run.stdout).not.toContain(PASSWORD);
    }
  }, 120_000);
});
