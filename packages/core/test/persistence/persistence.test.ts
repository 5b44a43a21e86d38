import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/wait-for';
import type { Command, GetResult, Json, ScanResult } from '../../src/commands/commands';
import type { MemoryEngineOptions } from '../../src/memory/memory-engine';
import { MemoryEngine } from '../../src/memory/memory-engine';
import type { PersistenceOptions } from '../../src/persistence/persistence';
import { PersistenceError } from '../../src/persistence/persistence';
import { describeEngineConformance } from '../engine-conformance';

const root = mkdtempSync(join(tmpdir(), 'lix-persistence-'));
let dirCount = 0;
const freshDir = (): string => join(root, `d${++dirCount}`);
const open: MemoryEngine[] = [];

interface LogLine {
  level: string;
  message: string;
  details: Record<string, unknown>;
}

function start(dir: string, persistence: Partial<PersistenceOptions> = {}, options: MemoryEngineOptions = {}): { engine: MemoryEngine; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const engine = new MemoryEngine({
    ...options,
    persistence: { dir, fsync: 'no', snapshotIntervalMs: 0, log: (level, message, details) => logs.push({ level, message, details }), ...persistence },
  });
  open.push(engine);
  return { engine, logs };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((engine) => engine.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Everything an engine holds, comparable across engines: values, whether each key has a ttl, and tags. */
async function dump(engine: MemoryEngine, tags: string[] = []): Promise<{ items: [string, Json, boolean][]; tags: Record<string, string[]> }> {
  const items: [string, Json, boolean][] = [];
  let cursor: string | null = null;
  do {
    const page = (await engine.execute([{ op: 'scan', limit: 1000, cursor }]))[0] as ScanResult;
    for (const item of page.items!) items.push([item.key, item.value, item.ttl !== null]);
    cursor = page.cursor;
  } while (cursor !== null);
  const byTag: Record<string, string[]> = {};
  for (const tag of tags) byTag[tag] = ((await engine.execute([{ op: 'scan', tag, keysOnly: true, limit: 10_000 }]))[0] as ScanResult).keys!.sort();
  return { items: items.sort((a, b) => (a[0] < b[0] ? -1 : 1)), tags: byTag };
}

const logFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.startsWith('log-')).sort();
const lastLog = (dir: string): string => join(dir, logFiles(dir).at(-1)!);

describeEngineConformance('MemoryEngine with persistence (everysec)', async (options) => {
  const { engine } = start(freshDir(), { fsync: 'everysec', snapshotLogBytes: 64 * 1024 }, options);
  open.splice(open.indexOf(engine), 1);
  return engine;
});

describe('MemoryEngine persistence', () => {
  it('restores every kind of change after a clean close', async () => {
    const dir = freshDir();
    const { engine } = start(dir, {}, { limit: 50 });
    await engine.execute([{ op: 'set', key: 'cleared', value: 1, tags: ['t1'] }, { op: 'clear' }]);
    // Evictions are changes too: 60 keys into a limit of 50.
    await engine.execute(Array.from({ length: 60 }, (_, i): Command => ({ op: 'set', key: `lru:${String(i).padStart(2, '0')}`, value: i })));
    await engine.execute([
      { op: 'set', key: 'gone', value: 'deleted later' },
      { op: 'delete', key: 'gone' },
      { op: 'set', key: 'obj', value: { a: 1, nested: { x: [1, 2] } }, tags: ['t1', 't2'] },
      { op: 'merge', key: 'obj', value: { b: 'ü日🎉' } },
      { op: 'set', key: 'ttl', value: 'long', ttl: 1000 },
      { op: 'set', key: 'ttl-removed', value: 1, ttl: 1000 },
      { op: 'expire', key: 'ttl-removed', ttl: 0 },
      { op: 'set', key: 'touched', value: 2 },
      { op: 'get', key: 'touched', touch: 500 },
      { op: 'incr', key: 'counter', amount: 5 },
      { op: 'decr', key: 'counter', amount: 0.5 },
      { op: 'set', key: 'deleted', value: 1 },
      { op: 'delete', key: 'deleted' },
      { op: 'set', key: 'inv1', value: 1, tags: ['session:u1'] },
      { op: 'set', key: 'inv2', value: 2, tags: ['session:u1', 't1'] },
      { op: 'invalidate', tag: 'session:u1' },
      { op: 'set', key: 'retagged', value: 1, tags: ['t2'] },
      { op: 'set', key: 'retagged', value: 2, tags: ['t3'] },
      { op: 'set', key: 'untagged', value: 1, tags: ['t3'] },
      { op: 'set', key: 'untagged', value: null },
      { op: 'set', key: 'kl\u00e9', value: [true, false, null, -0.25, 'x'] },
    ]);
    const tags = ['t1', 't2', 't3', 'session:u1'];
    const before = await dump(engine, tags);
    expect((await engine.stats()).evictions).toBeGreaterThan(0);
    await engine.close();

    const { engine: reopened, logs } = start(dir, {}, { limit: 50 });
    expect(await dump(reopened, tags)).toStrictEqual(before);
    const [counter, ttl, touched] = await reopened.execute([
      { op: 'get', key: 'counter' },
      { op: 'get', key: 'ttl' },
      { op: 'get', key: 'touched' },
    ]);
    expect(counter).toMatchObject({ value: 4.5 });
    // TTLs are absolute: the remaining time kept running.
    expect((ttl as GetResult).ttl).toBeGreaterThan(990);
    expect((ttl as GetResult).ttl).toBeLessThanOrEqual(1000);
    expect((touched as GetResult).ttl).toBeGreaterThan(490);
    expect(reopened.restored).toMatchObject({ dir, keys: before.items.length, droppedBytes: 0 });
    const loaded = logs.find((line) => line.level === 'info' && /loaded \d+ keys/.test(line.message));
    expect(loaded?.message).toMatch(new RegExp(`loaded ${before.items.length} keys from .* in \\d+ ms`));
  });

  it('does not restore keys that expired while the engine was down', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    await engine.execute([
      { op: 'set', key: 'short', value: 1, ttl: 0.1 },
      { op: 'set', key: 'touched-short', value: 1 },
      { op: 'expire', key: 'touched-short', ttl: 0.1 },
      { op: 'set', key: 'stays', value: 2, ttl: 100 },
    ]);
    await engine.snapshot();
    await engine.execute([{ op: 'set', key: 'short-in-log', value: 3, ttl: 0.1, tags: ['t'] }]);
    const expiresBy = Date.now() + 100;
    await engine.close();
    await waitFor(() => Date.now() > expiresBy + 5, { what: 'the short TTLs to pass' });
    const { engine: reopened } = start(dir);
    expect((await dump(reopened, ['t'])).items.map(([key]) => key)).toStrictEqual(['stays']);
    expect((await dump(reopened, ['t'])).tags).toStrictEqual({ t: [] });
    expect(reopened.restored).toMatchObject({ keys: 1, expiredSkipped: 3 });
    expect((await reopened.stats()).size).toBe(1);
  });

  it('under always, a write is on disk when it is acknowledged', async () => {
    const dir = freshDir();
    const { engine } = start(dir, { fsync: 'always' });
    const logSize = statSync(lastLog(dir)).size;
    await engine.execute([{ op: 'set', key: 'acked', value: 'x'.repeat(100) }]);
    expect(statSync(lastLog(dir)).size).toBeGreaterThan(logSize + 100);
    // A process killed now leaves exactly these files: a copy opened as-is holds the write.
    const copy = freshDir();
    cpSync(dir, copy, { recursive: true });
    const { engine: recovered } = start(copy);
    expect(((await recovered.execute([{ op: 'get', key: 'acked' }]))[0] as GetResult).found).toBe(true);
    // Reads alone write nothing, so they do not wait for the disk.
    const size = statSync(lastLog(dir)).size;
    await engine.execute([{ op: 'get', key: 'acked' }, { op: 'exists', key: 'acked' }]);
    expect(statSync(lastLog(dir)).size).toBe(size);
  });

  it('under everysec and no, writes reach the file within an event-loop turn', async () => {
    for (const fsync of ['everysec', 'no'] as const) {
      const dir = freshDir();
      const { engine } = start(dir, { fsync });
      await engine.execute(Array.from({ length: 100 }, (_, i): Command => ({ op: 'set', key: `k${i}`, value: i })));
      await new Promise((resolve) => setImmediate(resolve));
      const copy = freshDir();
      cpSync(dir, copy, { recursive: true });
      const { engine: recovered } = start(copy);
      expect((await recovered.stats()).size).toBe(100);
    }
  });

  it('drops a torn last record, says how many bytes, and keeps working', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    await engine.execute(Array.from({ length: 10 }, (_, i): Command => ({ op: 'set', key: `k${i}`, value: `value ${i}` })));
    await engine.close();
    const file = lastLog(dir);
    const whole = readFileSync(file);
    // Cut the last record short, as a crash in the middle of a write would.
    writeFileSync(file, whole.subarray(0, whole.length - 5));

    const { engine: reopened, logs } = start(dir);
    expect((await dump(reopened)).items.map(([key]) => key)).toStrictEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']);
    const warning = logs.find((line) => line.level === 'warn');
    const lastRecordBytes = 8 + 1 + 8 + 4 + 2 + 1 + 4 + '"value 9"'.length + 2;
    expect(warning?.message).toContain(`dropped ${lastRecordBytes - 5} bytes at the end of ${file}`);
    expect(reopened.restored).toMatchObject({ keys: 9, droppedBytes: lastRecordBytes - 5 });
    await reopened.execute([{ op: 'set', key: 'after', value: 1 }]);
    await reopened.close();

    const { engine: third, logs: thirdLogs } = start(dir);
    expect((await third.stats()).size).toBe(10);
    expect(thirdLogs.filter((line) => line.level === 'warn')).toStrictEqual([]);
  });

  it('drops a torn tail made of zeros (a crash after the file grew)', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    await engine.execute([{ op: 'set', key: 'a', value: 1 }]);
    await engine.close();
    writeFileSync(lastLog(dir), Buffer.concat([readFileSync(lastLog(dir)), Buffer.alloc(4096)]));
    const { engine: reopened } = start(dir);
    expect(reopened.restored).toMatchObject({ keys: 1, droppedBytes: 4096 });
  });

  it('refuses to start on a log damaged in the middle, changing nothing', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    for (let i = 0; i < 5; i++) await engine.execute([{ op: 'set', key: `k${i}`, value: 'abcdefgh' }]);
    await engine.close();
    const file = lastLog(dir);
    const bytes = readFileSync(file);
    const damagedAt = bytes.indexOf('abcdefgh') + 2;
    bytes[damagedAt] = bytes[damagedAt]! ^ 0xff;
    writeFileSync(file, bytes);

    let error: unknown;
    try {
      start(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PersistenceError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Refusing to start: .*log-\d+\.lix is damaged at byte 8: a record of \d+ bytes fails its checksum\./);
    expect(message).toContain('Intact records follow it');
    expect(message).toContain('truncate -s 8');
    expect(readFileSync(file)).toStrictEqual(bytes);
    // The directory was released: once repaired, it opens.
    writeFileSync(file, bytes.subarray(0, 8));
    expect(start(dir).engine.restored).toMatchObject({ keys: 0 });
  });

  it('refuses a damaged or incomplete snapshot', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    await engine.execute(Array.from({ length: 20 }, (_, i): Command => ({ op: 'set', key: `k${i}`, value: i })));
    await engine.snapshot();
    await engine.close();
    const file = join(dir, 'snapshot.lix');
    const good = readFileSync(file);
    writeFileSync(file, good.subarray(0, good.length - 17));
    expect(() => start(dir)).toThrow(/Refusing to start: .*snapshot\.lix is damaged at byte \d+/);
    const flipped = Buffer.from(good);
    flipped[good.length - 40] = flipped[good.length - 40]! ^ 1;
    writeFileSync(file, flipped);
    expect(() => start(dir)).toThrow(PersistenceError);
    writeFileSync(file, good);
    expect(start(dir).engine.restored).toMatchObject({ keys: 20, snapshotKeys: 20 });
  });

  it('refuses to start when a log between the snapshot and the newest one is missing', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    await engine.execute([{ op: 'set', key: 'a', value: 1 }]);
    await engine.snapshot();
    await engine.execute([{ op: 'set', key: 'b', value: 1 }]);
    await engine.close();
    const [first] = logFiles(dir);
    writeFileSync(join(dir, 'log-00000099.lix'), readFileSync(join(dir, first!)));
    rmSync(join(dir, first!));
    expect(() => start(dir)).toThrow(/is missing .* changes in it would be lost/);
  });

  it('a snapshot taken during writes, then the log after it, rebuild the exact state', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    const tags = Array.from({ length: 10 }, (_, i) => `tag${i}`);
    await engine.execute(Array.from({ length: 9000 }, (_, i): Command => ({ op: 'set', key: `k${String(i).padStart(5, '0')}`, value: { i }, tags: [tags[i % 10]!] })));
    const snapshot = engine.snapshot();
    // Writes while the snapshot walks the keys a chunk at a time: ahead of it, behind it, everywhere.
    for (let round = 0; round < 30; round++) {
      const i = (round * 997) % 9000;
      await engine.execute([
        { op: 'set', key: `k${String(i).padStart(5, '0')}`, value: { i, round }, tags: [tags[round % 10]!] },
        { op: 'delete', key: `k${String(8999 - i).padStart(5, '0')}` },
        { op: 'merge', key: `k${String((i + 1) % 9000).padStart(5, '0')}`, value: { merged: round } },
        { op: 'incr', key: `new:${round % 3}` },
        { op: 'expire', key: `k${String((i + 2) % 9000).padStart(5, '0')}`, ttl: 1000 },
      ]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await engine.execute([{ op: 'invalidate', tag: 'tag3' }]);
    const report = await snapshot;
    expect(report.keys).toBeGreaterThan(8000);
    await engine.execute([{ op: 'set', key: 'after-snapshot', value: true, tags: ['tag0'] }]);
    const before = await dump(engine, tags);
    await engine.close();
    // The snapshot replaced the old log: one snapshot, one log.
    expect(readdirSync(dir).sort()).toStrictEqual(['log-00000002.lix', 'snapshot.lix']);

    const { engine: reopened } = start(dir);
    expect(await dump(reopened, tags)).toStrictEqual(before);
    expect(reopened.restored!.snapshotKeys).toBe(report.keys);
    expect(reopened.restored!.logRecords).toBeGreaterThan(0);
  });

  it('snapshots by interval and by log size, compacting the log', async () => {
    const dir = freshDir();
    const { engine, logs } = start(dir, { snapshotIntervalMs: 30 });
    await engine.execute([{ op: 'set', key: 'a', value: 1 }]);
    await waitFor(() => existsSync(join(dir, 'snapshot.lix')), { what: 'a snapshot by interval' });
    await waitFor(() => logs.some((line) => /snapshot of 1 keys written/.test(line.message)), { what: 'the snapshot log line' });
    await engine.close();

    const bySize = freshDir();
    const { engine: sized } = start(bySize, { snapshotLogBytes: 20_000 });
    for (let i = 0; i < 20; i++) await sized.execute([{ op: 'set', key: 'same', value: 'x'.repeat(2000) }]);
    await waitFor(() => existsSync(join(bySize, 'snapshot.lix')), { what: 'a snapshot by log size' });
    await waitFor(() => logFiles(bySize).length === 1 && statSync(lastLog(bySize)).size < 20_000, { what: 'the old log to go' });
    await sized.close();
    const { engine: reopened } = start(bySize);
    expect(((await reopened.execute([{ op: 'get', key: 'same' }]))[0] as GetResult).value).toBe('x'.repeat(2000));
  });

  it('close during a snapshot leaves a directory that loads', async () => {
    const dir = freshDir();
    const { engine } = start(dir);
    await engine.execute(Array.from({ length: 10_000 }, (_, i): Command => ({ op: 'set', key: `k${i}`, value: i })));
    const snapshot = engine.snapshot();
    await engine.close();
    await expect(snapshot).rejects.toThrow(/closing/);
    expect(existsSync(join(dir, 'snapshot.lix.tmp'))).toBe(false);
    const { engine: reopened } = start(dir);
    expect((await reopened.stats()).size).toBe(10_000);
  });

  it('one engine per directory', async () => {
    const dir = freshDir();
    start(dir);
    expect(() => start(dir)).toThrow(/already used by another MemoryEngine in this process/);
    await Promise.all(open.splice(0).map((engine) => engine.close()));
    start(dir);

    // A LOCK left by a live process (pid 1 always runs) keeps others out; one left by a dead process is taken over.
    const other = freshDir();
    start(other);
    await Promise.all(open.splice(0).map((engine) => engine.close()));
    writeFileSync(join(other, 'LOCK'), '1\n');
    expect(() => start(other)).toThrow(/in use by process 1/);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(other, 'LOCK'), `${dead}\n`);
    expect(start(other).engine.restored).toMatchObject({ keys: 0 });
  });

  it('rejects bad persistence options with a message saying what to pass', () => {
    expect(() => new MemoryEngine({ persistence: { dir: '' } })).toThrow(/persistence\.dir must name a directory/);
    expect(() => new MemoryEngine({ persistence: { dir: freshDir(), fsync: 'sometimes' as never } })).toThrow(/fsync must be one of always, everysec, no; got sometimes/);
    expect(() => new MemoryEngine({ persistence: { dir: freshDir(), snapshotIntervalMs: -1 } })).toThrow(/snapshotIntervalMs/);
  });

  it('without the option nothing is written, and snapshot() says what it needs', async () => {
    const engine = new MemoryEngine();
    expect(engine.restored).toBeUndefined();
    await expect(engine.snapshot()).rejects.toThrow(/needs a MemoryEngine created with the "persistence" option/);
    await engine.close();
  });
});
