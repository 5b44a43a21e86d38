import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';
import { CLI, startCli } from './run-cli';

// `lix-cache watch`: JSON lines when stdout is not a terminal, the live view on one (a real
// pseudo-terminal from util-linux `script`), and how each ends.

interface Sample {
  time: string;
  engine: string;
  size: number;
  hits: number;
  misses: number;
  operations: number;
  hitRate: number | null;
  opsPerSec: number | null;
  [name: string]: unknown;
}

const servers: ServerProcess[] = [];
async function server(): Promise<ServerProcess> {
  const started = await startServer();
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((started) => started.stop()));
});

async function send(url: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.ok).toBe(true);
}

/** Every complete line of `text`, parsed (a line that is not JSON fails the test). */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as Sample);
}

describe('watch, stdout not a terminal', () => {
  it('prints one JSON line per interval with the server\'s numbers and ops/s, and exits 0 on SIGTERM', async () => {
    const { url } = await server();
    await send(url, '/cache/set', { key: 'a', value: 1 });
    await send(url, '/cache/set', { key: 'b', value: 2 });
    expect((await fetch(`${url}/cache/get?key=a`)).ok).toBe(true);

    const watch = startCli(['watch', '--interval', '150'], { LIX_CACHE_URL: url });
    const first = (await waitFor(() => samples(watch.stdout())[0], { what: 'the first sample' }))!;
    const reported = (await (await fetch(`${url}/cache/stats`)).json()) as { size: number; stats: { hits: number; misses: number; operations: number } };
    expect(first).toMatchObject({ engine: 'memory', size: reported.size, hits: reported.stats.hits, misses: reported.stats.misses, operations: reported.stats.operations, opsPerSec: null });
    expect(first).toMatchObject({ size: 2, hits: 1, misses: 0, operations: 3, hitRate: 1 });
    expect(Number.isNaN(Date.parse(first.time))).toBe(false);

    // Four more operations while it watches: the first sample that sees them has a rate.
    for (const key of ['c', 'd', 'e', 'f']) await send(url, '/cache/set', { key, value: 0 });
    await waitFor(() => samples(watch.stdout()).some((sample) => sample.operations === 7), { what: 'a sample with 7 operations' });
    const all = samples(watch.stdout());
    const at = all.findIndex((sample) => sample.operations === 7);
    const [before, after] = [all[at - 1]!, all[at]!];
    expect(after.size).toBe(6);
    const seconds = (Date.parse(after.time) - Date.parse(before.time)) / 1000;
    const expected = (after.operations - before.operations) / seconds;
    expect(after.opsPerSec).toBeGreaterThan(0);
    expect(Math.abs(after.opsPerSec! - expected) / expected).toBeLessThan(0.1);

    // With nothing happening the rate is 0 (stats requests are not operations).
    const idle = (await waitFor(() => samples(watch.stdout())[at + 1], { what: 'an idle sample' }))!;
    expect(idle.operations).toBe(7);
    expect(idle.opsPerSec).toBe(0);

    watch.process.kill('SIGTERM');
    expect(await watch.exited).toBe(0);
    expect(watch.stderr()).toBe('');
    expect(samples(watch.stdout()).length).toBeGreaterThanOrEqual(3);
  });

  it('exits 0 quietly when the reader of its output goes away (watch | head -1)', async () => {
    const { url } = await server();
    const watch = startCli(['watch', '--interval', '100'], { LIX_CACHE_URL: url });
    await waitFor(() => samples(watch.stdout()).length >= 1, { what: 'the first sample' });
    watch.process.stdout!.destroy();
    expect(await watch.exited).toBe(0);
    expect(watch.stderr()).toBe('');
  });

  it('exits 1 with a message when the server goes away', async () => {
    const started = await server();
    const watch = startCli(['watch', '--interval', '100'], { LIX_CACHE_URL: started.url });
    await waitFor(() => samples(watch.stdout()).length >= 1, { what: 'the first sample' });
    await started.stop();
    expect(await watch.exited).toBe(1);
    expect(watch.stderr()).toMatch(new RegExp(`^lix-cache: cannot reach ${started.url} \\(E[A-Z]+\\): is lix-cache-server running there\\?`));
    expect(watch.stderr()).not.toMatch(/\n\s+at /);
  });
});

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

describe('watch on a terminal', () => {
  it('redraws the view in place, shows "server unreachable" and keeps trying, and exits 0 on Ctrl-C', async () => {
    const started = await server();
    // script(1) runs the command on a pseudo-terminal; stty gives that terminal a size.
    const command = `stty cols 120 rows 40; exec ${quote(process.execPath)} ${quote(CLI)} watch --interval 150`;
    const watch = startCli([], { LIX_CACHE_URL: started.url }, ['script', ['-qec', command, '/dev/null']]);
    await waitFor(() => /│ ops\/s +│ [\d.]+ +│/.test(watch.stdout()), { what: 'a view with a rate' });
    const view = watch.stdout();
    expect(view).toContain(`lix-cache watch: ${started.url}, every 150 ms (Ctrl-C to stop)`);
    expect(view).toMatch(/│ keys +│ 0 of 500,000 +│/);
    // Redrawn in place: the cursor moves up over the previous view instead of printing below it.
    expect(view).toMatch(/\x1b\[\d+A/);
    expect(view).not.toContain('{"time"');

    await started.stop();
    await waitFor(() => watch.stdout().includes(`server unreachable: cannot reach ${started.url}`), { what: '"server unreachable"', timeoutMs: 10_000 });
    expect(watch.stdout()).toContain('retrying every 150 ms');
    expect(watch.process.exitCode).toBeNull();

    watch.process.stdin!.write('\x03'); // Ctrl-C, turned into SIGINT by the terminal
    expect(await watch.exited).toBe(0);
  });
});
