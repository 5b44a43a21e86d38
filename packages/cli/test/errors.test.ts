import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/free-port';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { json, lix } from './run-cli';

// Where the CLI connects (--url, LIX_CACHE_URL), auth, and every kind of failure: each one
// exits with its documented code and a message that says what to do, never a stack trace.

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const KEY = 'test-key-0123456789abcdef';

let open: ServerProcess;
let secured: ServerProcess;
/** A port nothing listens on. */
let closedPort: number;

beforeAll(async () => {
  [open, secured, closedPort] = await Promise.all([startServer(), startServer({ env: { LIX_API_KEYS: `${KEY},another-key-0123456789` } }), freePort()]);
  await fetch(`${open.url}/cache/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'where', value: 'open' }) });
  await fetch(`${secured.url}/cache/set`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ key: 'where', value: 'secured' }),
  });
});
afterAll(async () => {
  await Promise.all([open?.stop(), secured?.stop()]);
});

/** No stack trace: expected failures are one message. */
function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('help and version', () => {
  it('--help lists the commands, the environment variables and the exit codes', async () => {
    const run = await lix(['--help']);
    expect(run.code).toBe(0);
    for (const text of ['get <key>', 'set [options] <key> <value>', 'del <key...>', 'scan [options] [prefix]', 'ttl <key>', 'incr [options] <key> [amount]', 'stats', 'watch']) {
      expect(run.stdout).toContain(text);
    }
    for (const text of ['--url', '--api-key', '--output', '--json', '--timeout', 'LIX_CACHE_URL', 'LIX_CACHE_API_KEY', 'visible to other users in ps']) expect(run.stdout).toContain(text);
    expect(run.stdout).toMatch(/Exit codes:\n {2}0 +success\n {2}1 +error: .*\n {2}2 +usage error: .*\n {2}3 +not found: /);
  });

  it('a command\'s --help shows its options and the global ones', async () => {
    const run = await lix(['set', '--help']);
    expect(run.code).toBe(0);
    for (const text of ['--ttl <seconds>', '--tag <tag>', '--nx', '--xx', '--string', 'Global Options:', '--url <url>']) expect(run.stdout).toContain(text);
  });

  it('--version prints the package version', async () => {
    expect(await lix(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});

describe('where it connects', () => {
  it('LIX_CACHE_URL chooses the server', async () => {
    const run = await lix(['get', 'where'], { LIX_CACHE_URL: open.url });
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ value: 'open' });
  });

  it('--url chooses the server, before or after the command, and wins over LIX_CACHE_URL', async () => {
    const unreachable = `http://127.0.0.1:${closedPort}`;
    for (const args of [['--url', open.url, 'get', 'where'], ['get', 'where', '--url', open.url]]) {
      const run = await lix(args, { LIX_CACHE_URL: unreachable });
      expect(run.code, args.join(' ')).toBe(0);
      expect(json(run)).toMatchObject({ value: 'open' });
    }
  });

  it('server unreachable: exit 1, naming the URL and what to do; credentials in the URL are not shown', async () => {
    const [flag, variable] = await Promise.all([
      lix(['stats', '--url', `http://admin:hunter2secret@127.0.0.1:${closedPort}`]),
      lix(['get', 'x'], { LIX_CACHE_URL: `http://127.0.0.1:${closedPort}` }),
    ]);
    expect(flag.code).toBe(1);
    expect(flag.stdout).toBe('');
    expect(flag.stderr).toBe(
      `lix-cache: cannot reach http://***@127.0.0.1:${closedPort} (ECONNREFUSED): is lix-cache-server running there? ` +
        'Start it (npx lix-cache-server), or set --url or LIX_CACHE_URL to the address of a running server.\n',
    );
    expect(flag.stderr).not.toContain('hunter2secret');
    expect(variable.code).toBe(1);
    expect(variable.stderr).toContain(`lix-cache: cannot reach http://127.0.0.1:${closedPort} (ECONNREFUSED)`);
  });

  it('a URL that is not an http(s) URL: exit 2, naming where it came from, credentials hidden', async () => {
    const [flag, variable] = await Promise.all([lix(['stats', '--url', 'redis://:pw-secret@localhost:6379']), lix(['stats'], { LIX_CACHE_URL: 'localhost:4000' })]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('lix-cache: --url "redis://***@localhost:6379" is not an http:// or https:// URL');
    expect(flag.stderr).toContain('--help');
    expect(flag.stderr).not.toContain('pw-secret');
    expect(variable.code).toBe(2);
    expect(variable.stderr).toMatch(/lix-cache: LIX_CACHE_URL "localhost:4000" is not an http/);
  });
});

describe('something else at the URL', () => {
  const others: Server[] = [];
  afterAll(() => {
    for (const other of others) other.close();
  });
  async function listen(server: Server): Promise<string> {
    others.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('a server that never answers: exit 1 after --timeout, saying so', async () => {
    const url = await listen(createTcpServer(() => {})); // accepts connections, says nothing
    const run = await lix(['stats', '--url', url, '--timeout', '150']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`lix-cache: no answer from ${url} within 150 ms: check that the server is up and reachable at --url / LIX_CACHE_URL, or raise --timeout.\n`);
  });

  it('a web server that is not Lix Cache: exit 1, "not a Lix Cache server"', async () => {
    const url = await listen(createHttpServer((_request, response) => response.writeHead(404).end('Not Found')));
    const run = await lix(['get', 'k', '--url', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`lix-cache: ${url} is not a Lix Cache server (it answered 404): check --url or LIX_CACHE_URL.\n`);
  });
});

describe('auth', () => {
  it('the right key works, from --api-key or LIX_CACHE_API_KEY', async () => {
    const [flag, variable] = await Promise.all([
      lix(['get', 'where', '--url', secured.url, '--api-key', KEY]),
      lix(['get', 'where'], { LIX_CACHE_URL: secured.url, LIX_CACHE_API_KEY: KEY }),
    ]);
    expect(flag.code).toBe(0);
    expect(json(flag)).toMatchObject({ value: 'secured' });
    expect(variable.code).toBe(0);
    expect(json(variable)).toMatchObject({ value: 'secured' });
  });

  it('a wrong key: exit 1, "refused the API key", and the key is never printed', async () => {
    const wrong = 'wrong-key-9876543210';
    for (const run of await Promise.all([lix(['get', 'where', '--url', secured.url, '--api-key', wrong]), lix(['stats'], { LIX_CACHE_URL: secured.url, LIX_CACHE_API_KEY: wrong })])) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `lix-cache: the server at ${secured.url} refused the API key: set --api-key or LIX_CACHE_API_KEY to one of the keys in the server's LIX_API_KEYS.\n`,
      );
      expect(run.stderr).not.toContain(wrong);
    }
  });

  it('no key: exit 1, "requires an API key"', async () => {
    const run = await lix(['get', 'where'], { LIX_CACHE_URL: secured.url });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`lix-cache: the server at ${secured.url} requires an API key: set LIX_CACHE_API_KEY (or --api-key)`);
  });
});

describe.concurrent('usage errors: exit 2, a message naming the problem, and the help hint', () => {
  const cases: [string[], string, string][] = [
    [['fetch', 'k'], "unknown command 'fetch'", 'lix-cache --help'],
    [['get', 'k', '--verbose'], "unknown option '--verbose'", 'lix-cache get --help'],
    [['get'], "missing required argument 'key'", 'lix-cache get --help'],
    [['set', 'k'], "missing required argument 'value'", 'lix-cache set --help'],
    [['del'], "missing required argument 'key'", 'lix-cache del --help'],
    [['set', 'k', 'v', '--ttl', 'soon'], "option '--ttl <seconds>' argument 'soon' is invalid. Give a number of seconds", 'lix-cache set --help'],
    [['set', 'k', 'v', '--ttl', '-5'], "option '--ttl <seconds>' argument '-5' is invalid", 'lix-cache set --help'],
    [['set', 'k', 'v', '--nx', '--xx'], "option '--nx' cannot be used with option '--xx'", 'lix-cache set --help'],
    [['incr', 'k', 'lots'], "command-argument value 'lots' is invalid for argument 'amount'. Give a number to add", 'lix-cache incr --help'],
    [['incr', 'k', '--ttl', '1h'], "option '--ttl <seconds>' argument '1h' is invalid", 'lix-cache incr --help'],
    [['scan', '--limit', '0'], "option '--limit <n>' argument '0' is invalid. Give a whole number, 1 or more", 'lix-cache scan --help'],
    [['scan', '--limit', '2.5'], "option '--limit <n>' argument '2.5' is invalid", 'lix-cache scan --help'],
    [['watch', '--interval', '10'], "option '--interval <ms>' argument '10' is invalid. Give a whole number, 100 or more", 'lix-cache watch --help'],
    // Global options are the program's: its help describes them.
    [['stats', '--timeout', 'never'], "option '--timeout <ms>' argument 'never' is invalid", 'lix-cache --help'],
    [['stats', '--output', 'xml'], "option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are json, table", 'lix-cache --help'],
    [['stats', '--json', '--output', 'table'], '--json and --output table contradict each other', 'lix-cache --help'],
    [[], 'Usage: lix-cache', 'Commands:'],
  ];

  it.each(cases)('lix-cache %j', async (args, message, hint) => {
    // The server is reachable: none of these may get as far as sending anything.
    const run = await lix(args, { LIX_CACHE_URL: open.url });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain(hint);
    expectNoStack(run.stderr);
  });
});

describe('output format', () => {
  it('JSON by default when stdout is not a terminal; --json and -o choose', async () => {
    const env = { LIX_CACHE_URL: open.url };
    const [plain, flag, short, table] = await Promise.all([lix(['ttl', 'where'], env), lix(['ttl', 'where', '--json'], env), lix(['-o', 'json', 'ttl', 'where'], env), lix(['ttl', 'where', '-o', 'table'], env)]);
    for (const run of [plain, flag, short]) expect(json(run)).toEqual({ key: 'where', ttl: null });
    expect(table.stdout).toBe('no expiry\n');
  });
});
