import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { json, lix } from './run-cli';

// Every command against a real server, in both output formats. stdout is a pipe here, so
// JSON is the default; `--output table` forces the table.

let server: ServerProcess;
let stats: ServerProcess;
/** The environment that points the CLI at `server`. */
let env: Record<string, string>;

beforeAll(async () => {
  // `stats` gets a server of its own, so its counters hold the known workload only.
  [server, stats] = await Promise.all([startServer(), startServer()]);
  env = { LIX_CACHE_URL: server.url };
});
afterAll(async () => {
  await Promise.all([server?.stop(), stats?.stop()]);
});

/** Store a key over plain HTTP, for tests whose subject is another command. */
async function put(key: string, value: unknown, extra: { ttl?: number; tags?: string[] } = {}, url = server.url): Promise<void> {
  const response = await fetch(`${url}/cache/set`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, value, ...extra }) });
  expect(response.ok).toBe(true);
}

/** The value and TTL the server holds for `key`, over plain HTTP (not through the CLI). */
async function stored(key: string): Promise<{ value: unknown; ttl: number | null } | undefined> {
  const response = await fetch(`${server.url}/cache/get?key=${encodeURIComponent(key)}`);
  return response.status === 404 ? undefined : ((await response.json()) as { value: unknown; ttl: number | null });
}

describe('set and get', () => {
  it('round-trip a JSON value with a TTL: {key, value, ttl} as JSON, the value indented as a table', async () => {
    const set = await lix(['set', 'user:1', '{"name":"Ada","roles":["admin"]}', '--ttl', '60'], env);
    expect(set.code).toBe(0);
    expect(json(set)).toEqual({ key: 'user:1', written: true });
    expect(await stored('user:1')).toMatchObject({ value: { name: 'Ada', roles: ['admin'] } });

    const get = await lix(['get', 'user:1'], env);
    expect(get.code).toBe(0);
    const entry = json<{ key: string; value: unknown; ttl: number }>(get);
    expect(entry).toMatchObject({ key: 'user:1', value: { name: 'Ada', roles: ['admin'] } });
    expect(entry.ttl).toBeGreaterThan(50);
    expect(entry.ttl).toBeLessThanOrEqual(60);

    const table = await lix(['get', 'user:1', '--output', 'table'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(`${JSON.stringify({ name: 'Ada', roles: ['admin'] }, null, 2)}\n`);
  });

  it('store the value as JSON when it parses, else as the text; --string keeps the text', async () => {
    const cases: [string[], unknown][] = [
      [['n', '42'], 42],
      [['flag', 'true'], true],
      [['word', 'hello world'], 'hello world'],
      [['quoted', '"42"'], '42'],
      [['zip', '007', '--string'], '007'],
      [['nothing', 'null'], null],
    ];
    const runs = await Promise.all(cases.map(([args]) => lix(['set', ...args], env)));
    for (const [i, [args, value]] of cases.entries()) {
      expect(runs[i]!.code, args.join(' ')).toBe(0);
      expect((await stored(args[0]!))?.value, args.join(' ')).toEqual(value);
    }
    // A stored null is a value, not a missing key.
    expect(json(await lix(['get', 'nothing'], env))).toEqual({ key: 'nothing', value: null, ttl: null });
  });

  it('set prints OK as a table', async () => {
    const run = await lix(['set', 'plain', 'x', '-o', 'table'], env);
    expect(run).toMatchObject({ code: 0, stdout: 'OK\n' });
  });

  it('--nx and --xx: exit 3 with a message when they do not write, 0 when they do', async () => {
    await put('lock', 'one');
    const nx = await lix(['set', 'lock', 'two', '--nx'], env);
    expect(nx.code).toBe(3);
    expect(json(nx)).toEqual({ key: 'lock', written: false });
    expect(nx.stderr).toContain('not written: "lock" already exists (--nx)');
    expect((await stored('lock'))?.value).toBe('one');

    const xx = await lix(['set', 'no-such-key', 'v', '--xx'], env);
    expect(xx.code).toBe(3);
    expect(xx.stderr).toContain('not written: "no-such-key" does not exist (--xx)');
    expect(await stored('no-such-key')).toBeUndefined();

    expect((await lix(['set', 'lock', 'three', '--xx'], env)).code).toBe(0);
    expect((await stored('lock'))?.value).toBe('three');
  });

  it('get and ttl of a missing key: exit 3, "not found" on stderr, nothing on stdout', async () => {
    const cases = ['get', 'ttl'].flatMap((command) => ['json', 'table'].map((output) => [command, 'missing:key', '--output', output]));
    for (const [i, run] of (await Promise.all(cases.map((args) => lix(args, env)))).entries()) {
      expect(run.code, cases[i]!.join(' ')).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('lix-cache: not found: no key "missing:key"');
    }
  });

  it('a value the server refuses: exit 1 with its reason (a TTL past the server\'s maximum)', async () => {
    const run = await lix(['set', 'forever', 'x', '--ttl', '999999999999'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^lix-cache: set failed: .*ttl.* must be a number of seconds/m);
    expect(run.stderr).not.toContain('    at ');
    expect(await stored('forever')).toBeUndefined();
  });
});

describe('ttl', () => {
  it('prints the seconds left ({key, ttl} as JSON), or "no expiry"', async () => {
    await Promise.all([put('short', 1, { ttl: 30 }), put('long', 1)]);
    const [short, shortTable, long, longTable] = await Promise.all([lix(['ttl', 'short'], env), lix(['ttl', 'short', '-o', 'table'], env), lix(['ttl', 'long'], env), lix(['ttl', 'long', '-o', 'table'], env)]);
    const seconds = json<{ key: string; ttl: number }>(short);
    expect(seconds.key).toBe('short');
    expect(seconds.ttl).toBeGreaterThan(20);
    expect(seconds.ttl).toBeLessThanOrEqual(30);
    expect(shortTable.stdout).toMatch(/^(2\d|30)(\.\d{1,3})? s\n$/);
    expect(json(long)).toEqual({ key: 'long', ttl: null });
    expect(longTable.stdout).toBe('no expiry\n');
  });
});

describe('incr', () => {
  it('adds 1 by default, any amount (negative, fractional) when given, and prints the result', async () => {
    expect(json(await lix(['incr', 'counter'], env))).toEqual({ key: 'counter', value: 1 });
    expect(json(await lix(['incr', 'counter', '5'], env))).toEqual({ key: 'counter', value: 6 });
    expect(json(await lix(['incr', 'counter', '-2'], env))).toEqual({ key: 'counter', value: 4 });
    expect(await lix(['incr', 'counter', '0.5', '-o', 'table'], env)).toMatchObject({ code: 0, stdout: '4.5\n' });
    expect((await stored('counter'))?.value).toBe(4.5);
  });

  it('--ttl applies when the call creates the key', async () => {
    expect((await lix(['incr', 'hits:today', '--ttl', '100'], env)).code).toBe(0);
    const ttl = (await stored('hits:today'))?.ttl;
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
  });

  it('a value that is not a number: exit 1, saying so', async () => {
    await put('name', 'Ada');
    const run = await lix(['incr', 'name'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('lix-cache: incr failed: non_numeric: the value at "name" is not a number');
  });
});

describe('del', () => {
  it('deletes the keys and reports the missing ones: {deleted, missing} as JSON, a summary as a table', async () => {
    await Promise.all([put('d:1', 1), put('d:2', 2), put('d:3', 3)]);
    const run = await lix(['del', 'd:1', 'd:2', 'd:none'], env);
    expect(run.code).toBe(0);
    expect(json(run)).toEqual({ deleted: ['d:1', 'd:2'], missing: ['d:none'] });
    expect(await stored('d:1')).toBeUndefined();
    expect(await stored('d:2')).toBeUndefined();

    const table = await lix(['del', 'd:3', 'd:gone', '-o', 'table'], env);
    expect(table).toMatchObject({ code: 0, stdout: 'deleted 1 of 2 keys\nnot found: d:gone\n' });
  });
});

describe('scan', () => {
  it('--tag lists the keys set with that tag, with values and TTLs', async () => {
    const sets = await Promise.all([
      lix(['set', 'member:1', '{"n":1}', '--tag', 'members', '--tag', 'team-a'], env),
      lix(['set', 'member:2', '{"n":2}', '--tag', 'members', '--ttl', '60'], env),
      lix(['set', 'member:3', '{"n":3}', '--tag', 'team-a'], env),
    ]);
    expect(sets.map((run) => run.code)).toEqual([0, 0, 0]);
    const page = json<{ items: { key: string; value: unknown; ttl: number | null }[]; count: number; cursor: string | null }>(await lix(['scan', '--tag', 'members'], env));
    expect(page.items.map((item) => item.key).sort()).toEqual(['member:1', 'member:2']);
    expect(page.count).toBe(2);
    expect(page.cursor).toBeNull();
    expect(page.items.find((item) => item.key === 'member:1')).toMatchObject({ value: { n: 1 }, ttl: null });
    expect(page.items.find((item) => item.key === 'member:2')!.ttl).toBeGreaterThan(50);

    const teamA = json<{ keys: string[] }>(await lix(['scan', 'member:', '--tag', 'team-a', '--keys-only'], env));
    expect(teamA.keys.sort()).toEqual(['member:1', 'member:3']);

    const table = await lix(['scan', 'member:', '--tag', 'members', '-o', 'table'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ key +│ ttl +│ value +│/);
    expect(table.stdout).toMatch(/│ member:1 +│ no expiry +│ \{"n":1\} +│/);
    expect(table.stdout).toMatch(/│ member:2 +│ \d+(\.\d+)? s +│ \{"n":2\} +│/);
    expect(table.stdout).not.toContain('member:3');
    expect(table.stdout).toMatch(/\n2 keys; end of scan\n$/);
  });

  it('pages with --limit and --cursor: every key once, and the table prints the next cursor', async () => {
    const keys = ['page:1', 'page:2', 'page:3', 'page:4', 'page:5'];
    await Promise.all(keys.map((key) => put(key, 1)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const run = await lix(['scan', 'page:', '--limit', '2', '--keys-only', ...(cursor ? ['--cursor', cursor] : [])], env);
      expect(run.code).toBe(0);
      const page = json<{ keys: string[]; count: number; cursor: string | null }>(run);
      expect(page.keys.length).toBeLessThanOrEqual(2);
      expect(page.count).toBe(page.keys.length);
      seen.push(...page.keys);
      cursor = page.cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen.sort()).toEqual(keys);
    expect(pages).toBeGreaterThanOrEqual(3);

    const first = await lix(['scan', 'page:', '--limit', '2', '-o', 'table'], env);
    const next = /\n2 keys; next page: --cursor (\S+)\n$/.exec(first.stdout)?.[1];
    expect(next, first.stdout).toBeDefined();
    const second = json<{ items: { key: string }[] }>(await lix(['scan', 'page:', '--limit', '2', '--cursor', next!], env));
    expect(second.items).toHaveLength(2);
    expect(second.items.some((item) => first.stdout.includes(item.key))).toBe(false);
  });

  it('no match: an empty page', async () => {
    const [asJson, asTable] = await Promise.all([lix(['scan', 'nothing-here:'], env), lix(['scan', 'nothing-here:', '-o', 'table'], env)]);
    expect(json(asJson)).toEqual({ items: [], count: 0, cursor: null });
    expect(asTable.stdout).toBe('no keys; end of scan\n');
  });
});

describe('stats', () => {
  it('prints the numbers GET /cache/stats returns after a known workload, and the hit rate', async () => {
    const at = { LIX_CACHE_URL: stats.url };
    // One request per command, over HTTP: 7 operations, 2 hits, 1 miss, 2 keys left.
    const commands = [
      { op: 'set', key: 'a', value: 1 },
      { op: 'set', key: 'b', value: 2 },
      { op: 'get', key: 'a' },
      { op: 'get', key: 'a' },
      { op: 'get', key: 'zz' },
      { op: 'incr', key: 'n' },
      { op: 'delete', key: 'b' },
    ];
    for (const command of commands) {
      const response = await fetch(`${stats.url}/cache/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ operations: [command] }) });
      expect(response.ok).toBe(true);
    }
    const [run, table] = await Promise.all([lix(['stats'], at), lix(['stats', '--output', 'table'], at)]);
    expect(run.code).toBe(0);
    const printed = json<Record<string, unknown>>(run);
    const server = (await (await fetch(`${stats.url}/cache/stats`)).json()) as { stats: Record<string, number> } & Record<string, unknown>;
    const { stats: counters, ...rest } = server;
    expect(printed).toEqual({ ...rest, ...counters, hitRate: 2 / 3 });
    expect(printed).toMatchObject({ engine: 'memory', size: 2, hits: 2, misses: 1, operations: 7, evictions: 0, expirations: 0 });

    expect(table.code).toBe(0);
    for (const row of [/│ engine +│ memory +│/, /│ keys +│ 2 of 500,000 +│/, /│ hit rate +│ 66\.7% +│/, /│ hits +│ 2 +│/, /│ misses +│ 1 +│/, /│ operations +│ 7 +│/, /│ memory +│ [\d.]+ (B|KiB) (of [\d.]+ [KMG]iB|\(no budget\)) +│/]) {
      expect(table.stdout).toMatch(row);
    }
  });
});
