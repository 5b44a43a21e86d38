import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, startServer } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { client } from './http-client';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('lix-cache-server CLI', () => {
  it('--help lists every flag and the environment variables', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const text of ['--port', '--host', '--store', '--limit', '--max-memory', '--log-level', '--cors-origins', '--max-key-bytes', '--max-value-bytes', '--max-body-bytes', '--max-batch', '--max-tags', '--allowed-hosts', '--protected-mode', '--headers-timeout', '--request-timeout', '--max-connections', '--max-connections-per-ip', '--events-heartbeat', '--max-tracked-keys', '--log-format', '--dashboard']) {
      expect(run.stdout).toContain(text);
    }
    for (const text of ['PORT', 'LIX_CACHE_LIMIT', 'LIX_MAX_MEMORY', 'LIX_AUTH_ENABLED', 'LIX_API_KEYS', 'LIX_CORS_ORIGINS', 'LOG_LEVEL', 'LIX_ALLOWED_HOSTS', 'LIX_PROTECTED_MODE', 'LIX_HEADERS_TIMEOUT_MS', 'LIX_MAX_CONNECTIONS', 'LIX_EVENTS_HEARTBEAT_MS', 'LIX_MAX_TRACKED_KEYS', 'LIX_LOG_FORMAT', 'LIX_DASHBOARD']) {
      expect(run.stdout).toContain(text);
    }
  });

  it('--version prints the package version', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('refuses bad flag values with an error naming the flag and the value', async () => {
    const cases: [string[], string[]][] = [
      [['--port', 'abc'], ['--port', 'abc', 'whole number']],
      [['--port', '70000'], ['--port', '65535']],
      [['--limit', '-5'], ['--limit', '-5']],
      [['--max-memory', 'lots'], ['--max-memory', '512mb']],
      [['--log-level', 'loud'], ['--log-level', 'debug']],
      [['--store', 'ftp://x'], ['--store', 'memory://']],
      [['--cors-origins', 'not an origin'], ['--cors-origins', 'https://app.example.com']],
      [['--events-heartbeat', '0'], ['--events-heartbeat', 'whole number']],
      [['--log-format', 'xml'], ['--log-format', 'json', 'pretty']],
      [['--dashboard', 'perhaps'], ['--dashboard', 'true or false']],
      [['--prot', '4000'], ["unknown option '--prot'", '--port']],
    ];
    // Parallel node start-ups on a busy 2-core machine can take longer than runCli's default 10 s.
    const runs = await Promise.all(cases.map(([args]) => runCli(args, undefined, 60_000)));
    cases.forEach(([args, says], i) => {
      expect(runs[i]!.code, args.join(' ')).not.toBe(0);
      for (const text of says) expect(runs[i]!.stderr, args.join(' ')).toContain(text);
    });
  }, 90_000);

  it('refuses bad environment values with an error naming the variable', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'abc' }, 'PORT must be a whole number'],
      [{ LIX_CACHE_LIMIT: '0' }, 'LIX_CACHE_LIMIT must be a whole number'],
      [{ LIX_MAX_MEMORY: '12 parsecs' }, 'LIX_MAX_MEMORY must be a size'],
      [{ LIX_AUTH_ENABLED: 'maybe' }, 'LIX_AUTH_ENABLED must be true or false'],
      [{ LIX_CORS_ORIGINS: 'app.example.com' }, 'LIX_CORS_ORIGINS must be *'],
      [{ LOG_LEVEL: 'chatty' }, 'LOG_LEVEL must be one of'],
      [{ LIX_MAX_BATCH: 'many' }, 'LIX_MAX_BATCH must be a whole number'],
      [{ LIX_PROTECTED_MODE: 'sometimes' }, 'LIX_PROTECTED_MODE must be true or false'],
      [{ LIX_ALLOWED_HOSTS: 'http://cache.internal' }, 'LIX_ALLOWED_HOSTS must be * or comma-separated host names'],
      [{ LIX_MAX_CONNECTIONS: '0' }, 'LIX_MAX_CONNECTIONS must be a whole number'],
      [{ LIX_MAX_TRACKED_KEYS: 'lots' }, 'LIX_MAX_TRACKED_KEYS must be a whole number'],
      [{ LIX_LOG_FORMAT: 'yaml' }, 'LIX_LOG_FORMAT must be json'],
      [{ LIX_DASHBOARD: 'sometimes' }, 'LIX_DASHBOARD must be true or false'],
      [{ LIX_HEADERS_TIMEOUT_MS: '20000', LIX_REQUEST_TIMEOUT_MS: '5000' }, 'LIX_REQUEST_TIMEOUT_MS'],
    ];
    const runs = await Promise.all(cases.map(([env]) => runCli([], env, 60_000)));
    cases.forEach(([env, says], i) => {
      expect(runs[i]!.code, JSON.stringify(env)).not.toBe(0);
      expect(runs[i]!.stderr, JSON.stringify(env)).toContain(says);
    });
  }, 90_000);

  it('refuses to start with auth enabled and no keys', async () => {
    const run = await runCli([], { LIX_AUTH_ENABLED: 'true' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('LIX_API_KEYS');
    expect(run.stderr).toContain('LIX_AUTH_ENABLED=false');
  });

  it('prints its URL, as a JSON log line and as a plain line', async () => {
    const server = await startServer();
    try {
      // pino writes asynchronously: the JSON line may arrive after the plain one.
      await waitFor(() => server.logs().includes('Lix Cache listening on') && server.logs().includes('"msg":"Lix Cache started"'), { what: 'both URL lines' });
      expect(server.logs()).toContain(`Lix Cache listening on http://127.0.0.1:${server.port}`);
      const started = server
        .logs()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.msg === 'Lix Cache started');
      expect(started).toMatchObject({ level: 30, url: `http://127.0.0.1:${server.port}`, store: 'memory://' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('takes settings from the environment, flags winning over it', async () => {
    const server = await startServer({ env: { LIX_CACHE_LIMIT: '5', LIX_MAX_MEMORY: '1mb' }, args: ['--limit', '3'] });
    try {
      const call = client(server.url);
      const stats = (await call('GET', '/cache/stats')).body;
      expect(stats).toMatchObject({ limit: 3, maxMemory: 1024 * 1024 });
      for (let i = 0; i < 5; i++) await call('POST', '/cache/set', { key: `k${i}`, value: i });
      expect((await call('GET', '/cache/stats')).body).toMatchObject({ size: 3, stats: { evictions: 2 } });
      expect((await call('GET', '/cache/get?key=k0')).status).toBe(404);
      expect((await call('GET', '/cache/get?key=k4')).body).toEqual({ value: 4, ttl: null });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('says so clearly when the port is taken', async () => {
    const server = await startServer();
    try {
      const run = await runCli([], { PORT: String(server.port), HOST: '127.0.0.1' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`Port ${server.port} on 127.0.0.1 is already in use`);
    } finally {
      await server.stop();
    }
  });
});

describe('log format', () => {
  it('writes JSON lines when stdout is not a terminal, pretty lines with --log-format pretty', async () => {
    const json = await startServer();
    try {
      const started = await waitFor(() => json.logs().split('\n').find((line) => line.includes('Lix Cache started')), { what: 'the start line' });
      expect(JSON.parse(started!)).toMatchObject({ level: 30, msg: 'Lix Cache started', store: 'memory://' });
    } finally {
      await json.stop();
    }
    const pretty = await startServer({ args: ['--log-format', 'pretty'] });
    try {
      const started = await waitFor(() => pretty.logs().split('\n').find((line) => line.includes('Lix Cache started')), { what: 'the start line' });
      expect(started).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(lix-cache-server\): Lix Cache started/);
      expect(() => JSON.parse(started!)).toThrow();
      // The fields follow, one per line.
      expect(pretty.logs()).toMatch(/\n\s+store: "memory:\/\/"/);
    } finally {
      await pretty.stop();
    }
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM finishes a request in flight, then exits 0', async () => {
    const server = await startServer({ env: { LOG_LEVEL: 'debug' } });
    const body = JSON.stringify({ key: 'late', value: 'arrives after SIGTERM' });
    const socket = connect(server.port, '127.0.0.1');
    let response = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (response += chunk));
    const ended = new Promise((resolve) => socket.on('end', resolve));

    // Headers and half the body: the server has started this request and waits for the rest.
    socket.write(`POST /cache/set HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
    socket.write(body.slice(0, 10));
    await waitFor(() => server.logs().includes('"url":"/cache/set"'), { what: 'the server to start the request' });

    server.process.kill('SIGTERM');
    await waitFor(() => server.logs().includes('shutting down'), { what: 'the server to begin shutting down' });
    socket.write(body.slice(10));
    await ended;

    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response.slice(response.indexOf('\r\n\r\n') + 4)).toBe('{"success":true}');
    expect(await server.exited).toBe(0);
    expect(server.logs()).toContain('"msg":"stopped"');
  });

  it('on SIGINT exits 0 too', async () => {
    const server = await startServer();
    await client(server.url)('POST', '/cache/set', { key: 'a', value: 1 });
    expect(await server.stop('SIGINT')).toBe(0);
  });
});
