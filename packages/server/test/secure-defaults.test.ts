import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { send } from './http-client';

describe('auth is on whenever keys are given', () => {
  it('LIX_API_KEYS alone turns auth on', async () => {
    const server = await startServer({ env: { LIX_API_KEYS: 'only-key' } });
    try {
      expect((await send(server.port, 'GET', '/cache/get?key=a', {})).status).toBe(401);
      expect((await send(server.port, 'POST', '/cache/set', {}, { key: 'a', value: 1 })).status).toBe(401);
      expect((await send(server.port, 'POST', '/cache/set', { authorization: 'Bearer only-key' }, { key: 'a', value: 1 })).status).toBe(200);
      await waitFor(() => server.logs().includes('"auth":true'), { what: 'the start-up line to say auth is on' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('refuses to start with LIX_AUTH_ENABLED=false and keys, naming both variables', async () => {
    const run = await runCli([], { LIX_API_KEYS: 'k1', LIX_AUTH_ENABLED: 'false' }, 30_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('LIX_API_KEYS');
    expect(run.stderr).toContain('LIX_AUTH_ENABLED=false');
  });
});

describe('protected mode', () => {
  it('refuses to listen on a non-loopback address without keys, explaining the risk and both fixes', async () => {
    for (const args of [[], ['--host', '0.0.0.0']]) {
      const run = await runCli(args, args.length ? {} : { HOST: '0.0.0.0' }, 30_000);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain('Protected mode');
      expect(run.stderr).toContain('forged session');
      expect(run.stderr).toContain('LIX_API_KEYS');
      expect(run.stderr).toContain('LIX_PROTECTED_MODE=false');
    }
  }, 60_000);

  it('starts on 0.0.0.0 with keys, or with the explicit opt-out', async () => {
    const [keyed, optedOut, flagged] = await Promise.all([
      startServer({ env: { HOST: '0.0.0.0', LIX_API_KEYS: 'k' }, timeoutMs: 40_000 }),
      startServer({ env: { HOST: '0.0.0.0', LIX_PROTECTED_MODE: 'false' }, timeoutMs: 40_000 }),
      startServer({ env: { HOST: '0.0.0.0' }, args: ['--protected-mode=false'], timeoutMs: 40_000 }),
    ]);
    // The opt-out is said at start-up, so it is not on unnoticed.
    await waitFor(() => optedOut.logs().includes('Protected mode is off'), { what: 'the opt-out warning' });
    expect(keyed.logs()).not.toContain('Protected mode is off');
    for (const server of [keyed, optedOut, flagged]) expect(await server.stop()).toBe(0);
  }, 60_000);
});

describe('with auth off, only loopback and configured Host names are answered (DNS rebinding)', () => {
  let open: ServerProcess;
  let named: ServerProcess;

  beforeAll(async () => {
    [open, named] = await Promise.all([startServer(), startServer({ env: { LIX_ALLOWED_HOSTS: 'cache.internal' } })]);
    await send(open.port, 'POST', '/cache/set', {}, { key: 'session:1', value: { user: 'ada' } });
  });
  afterAll(async () => {
    expect(await open.stop()).toBe(0);
    expect(await named.stop()).toBe(0);
  });

  it('refuses another Host with 403 host_not_allowed on both lanes, before any work', async () => {
    const port = open.port;
    for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.attacker.example:${port}`, `localhost:${port}@attacker.example`]) {
      const get = await send(port, 'GET', '/cache/get?key=session:1', { host });
      expect(get, host).toMatchObject({ status: 403, body: { code: 'host_not_allowed', error: expect.stringContaining('LIX_ALLOWED_HOSTS') } });
      // The rebinding page's own origin matches its Host: same-origin does not get it past the Host check.
      const set = await send(port, 'POST', '/cache/set', { host, origin: `http://${host}` }, { key: 'session:forged', value: { admin: true } });
      expect(set, host).toMatchObject({ status: 403, body: { code: 'host_not_allowed' } });
    }
    expect((await send(port, 'GET', '/cache/get?key=session:forged', {})).status).toBe(404);
    expect((await send(port, 'GET', '/cache/stats', {})).body.stats.hits).toBe(0);
  });

  it('answers loopback names with any port, the configured names, and /health for any Host', async () => {
    const port = open.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, `127.1.2.3:${port}`, `LOCALHOST.:${port}`, `app.localhost:${port}`]) {
      expect((await send(port, 'GET', '/cache/get?key=session:1', { host })).status, host).toBe(200);
    }
    expect((await send(port, 'GET', '/health', { host: 'attacker.example' })).status).toBe(200);
    expect((await send(named.port, 'GET', '/cache/get?key=x', { host: `cache.internal:${named.port}` })).status).toBe(404);
    expect((await send(named.port, 'GET', '/cache/get?key=x', { host: 'other.internal' })).status).toBe(403);
  });

  it('does not check Host when auth is on (a key is needed anyway)', async () => {
    const server = await startServer({ env: { LIX_API_KEYS: 'k' } });
    try {
      expect((await send(server.port, 'GET', '/cache/get?key=x', { host: 'cache.example.com', authorization: 'Bearer k' })).status).toBe(404);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('Origin check', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer();
    await send(server.port, 'POST', '/cache/set', {}, { key: 'k', value: 1 });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('refuses a cross-origin read on the GET fast lane path and a simple cross-origin write', async () => {
    const origin = 'http://localhost:5173';
    expect(await send(server.port, 'GET', '/cache/get?key=k', { origin })).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    expect(await send(server.port, 'POST', '/cache/set', { origin }, { key: 'k', value: 2 })).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    expect((await send(server.port, 'GET', '/cache/get?key=k', {})).body).toEqual({ value: 1, ttl: null });
  });

  it('allows a same-origin page (Origin is the server itself, by its Host)', async () => {
    const host = `127.0.0.1:${server.port}`;
    expect((await send(server.port, 'GET', '/cache/get?key=k', { host, origin: `http://${host}` })).status).toBe(200);
    expect((await send(server.port, 'GET', '/cache/get?key=k', { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` })).status).toBe(200);
    // Same host name, other port: another origin.
    expect((await send(server.port, 'GET', '/cache/get?key=k', { host, origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
  });
});
