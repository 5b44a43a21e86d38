import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/wait-for';
import type { Command, Result } from '../../src/commands/commands';
import { MemoryEngine } from '../../src/memory/memory-engine';

/**
 * kill -9 against a real process: a child runs the BUILT core (dist/, as users
 * do; `npm run build -w lix-cache-core` first) with a durable MemoryEngine,
 * acknowledges each write on stdout once `execute` resolves, and is SIGKILLed
 * mid-stream. The directory is then opened here and every acknowledgement checked.
 */
const DIST = fileURLToPath(new URL('../../dist/memory.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lix-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WRITER = `
const { MemoryEngine } = await import(process.env.LIX_CORE_DIST);
const engine = new MemoryEngine({ persistence: { dir: process.env.LIX_DIR, fsync: process.env.LIX_FSYNC } });
let next = 0;
// 8 concurrent writers, so several writes share each event-loop turn (and, under always, one fsync).
await Promise.all(Array.from({ length: 8 }, async () => {
  for (;;) {
    const i = next++;
    const [result] = await engine.execute([{ op: 'set', key: 'k' + i, value: { i }, tags: ['w' + (i % 8)] }]);
    if (!result.written) throw new Error('not written');
    process.stdout.write(i + ' ' + Date.now() + '\\n');
    // Like a server between requests: let the event loop turn (timers, I/O, the log's flush).
    await new Promise((resolve) => setImmediate(resolve));
  }
}));
`;

async function killMidStream(dir: string, fsync: 'always' | 'everysec'): Promise<{ acked: Map<number, number>; killedAt: number }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER], {
    env: { ...process.env, LIX_CORE_DIST: DIST, LIX_DIR: dir, LIX_FSYNC: fsync },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked = new Map<number, number>();
  let partial = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const [i, at] = line.split(' ').map(Number);
      acked.set(i!, at!);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await waitFor(() => acked.size >= 3000 || child.exitCode !== null, { timeoutMs: 15_000, what: '3000 acknowledged writes' });
    expect(stderr).toBe('');
    expect(child.exitCode).toBeNull();
  } finally {
    child.kill('SIGKILL');
  }
  const killedAt = Date.now();
  await exited;
  return { acked, killedAt };
}

async function readBack(dir: string, keys: number[]): Promise<Set<number>> {
  const engine = new MemoryEngine({ persistence: { dir, fsync: 'no', snapshotIntervalMs: 0, log: () => undefined } });
  try {
    const present = new Set<number>();
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      const results: Result[] = await engine.execute(batch.map((i): Command => ({ op: 'get', key: `k${i}` })));
      results.forEach((result, j) => {
        if ((result as { found?: boolean }).found) {
          expect(result).toMatchObject({ value: { i: batch[j] } });
          present.add(batch[j]!);
        }
      });
    }
    return present;
  } finally {
    await engine.close();
  }
}

describe('MemoryEngine persistence under kill -9', () => {
  beforeAll(() => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build core first (npm run build -w lix-cache-core).`);
  });

  it('always: every acknowledged write survives', async () => {
    const dir = join(root, 'always');
    const { acked } = await killMidStream(dir, 'always');
    const present = await readBack(dir, [...acked.keys()]);
    expect([...acked.keys()].filter((i) => !present.has(i))).toStrictEqual([]);
  });

  it('everysec: at most the last second of acknowledged writes is lost', async () => {
    const dir = join(root, 'everysec');
    const { acked, killedAt } = await killMidStream(dir, 'everysec');
    const present = await readBack(dir, [...acked.keys()]);
    const lostOlderThanASecond = [...acked].filter(([i, at]) => !present.has(i) && at < killedAt - 1000);
    expect(lostOlderThanASecond).toStrictEqual([]);
    // A killed process loses at most what was still buffered in its last event-loop turn.
    expect(present.size).toBeGreaterThan(acked.size - 100);
  });
});
