import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mountSmallFilesystem } from '../../../../test/helpers/small-filesystem';
import { waitFor } from '../../../../test/helpers/wait-for';
import type { ErrorResult, GetResult, Result } from '../../src/commands/commands';
import { LixError } from '../../src/commands/errors';
import { MemoryEngine } from '../../src/memory/memory-engine';
import type { FsyncPolicy } from '../../src/persistence/fsync-policy';

/**
 * The append-only log failing for real: the data directory sits on a tiny tmpfs
 * that the test fills up, so the kernel answers ENOSPC; then frees it again.
 */
const isError = (result: Result): result is ErrorResult => 'error' in result;

interface Logged {
  level: string;
  message: string;
}

function openOn(dir: string, fsync: FsyncPolicy): { engine: MemoryEngine; logs: Logged[] } {
  const logs: Logged[] = [];
  const engine = new MemoryEngine({ persistence: { dir, fsync, snapshotIntervalMs: 0, log: (level, message) => logs.push({ level, message }) } });
  return { engine, logs };
}

describe('persistence fails closed when the log cannot be written', () => {
  it.each(['everysec', 'no'] as const)('under %s: refuses writes after the one-second window, reads go on, recovers by itself; nothing acknowledged is lost', async (fsync) => {
    const fs = mountSmallFilesystem(1024 * 1024);
    try {
      const dir = join(fs.dir, 'data');
      const { engine, logs } = openOn(dir, fsync);
      const acknowledged = new Set<string>();
      await engine.execute([{ op: 'set', key: 'before', value: 'kept' }]);
      acknowledged.add('before');
      fs.fill();

      let refused: ErrorResult | undefined;
      const writeStarted = Date.now();
      let firstFailureSeen = 0;
      for (let i = 0; i < 2000 && refused === undefined; i++) {
        const [result] = await engine.execute([{ op: 'set', key: `k${i}`, value: { i, pad: 'x'.repeat(200) } }]);
        if (isError(result!)) refused = result;
        else acknowledged.add(`k${i}`);
        if (firstFailureSeen === 0 && logs.some((line) => line.level === 'error')) firstFailureSeen = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(refused, 'a write was refused within 2000 tries').toBeDefined();
      expect(refused!.error.code).toBe('persistence_failed');
      expect(refused!.error.message).toMatch(/the append-only log .*log-\d+\.lix cannot be written \(ENOSPC: no space left on device/);
      expect(refused!.error.message).toMatch(/Reads still work\. Free disk space/);
      // Refused only after the log had failed for longer than the window.
      expect(Date.now() - writeStarted).toBeGreaterThan(1000);
      expect(logs.filter((line) => line.level === 'error')).toHaveLength(1);
      expect(logs.find((line) => line.level === 'error')!.message).toMatch(/ENOSPC/);

      // Reads work; every write kind is refused; health says why.
      expect(((await engine.execute([{ op: 'get', key: 'before' }]))[0] as GetResult).value).toBe('kept');
      const writes = await engine.execute([
        { op: 'delete', key: 'before' },
        { op: 'incr', key: 'n' },
        { op: 'expire', key: 'before', ttl: 5 },
        { op: 'clear' },
        { op: 'exists', key: 'before' },
      ]);
      expect(writes.slice(0, 4).map((result) => (isError(result) ? result.error.code : 'ok'))).toEqual(['persistence_failed', 'persistence_failed', 'persistence_failed', 'persistence_failed']);
      expect(writes[4]).toMatchObject({ exists: true });
      // A get with touch reads, and leaves the TTL alone (a touch would append a record for the failing log).
      expect(await engine.execute([{ op: 'get', key: 'before', touch: 60 }])).toMatchObject([{ found: true, value: 'kept', ttl: null }]);
      expect(await engine.execute([{ op: 'get', key: 'before' }])).toMatchObject([{ ttl: null }]);
      expect(await engine.health()).toMatchObject({ ok: false, code: 'persistence_failed', message: expect.stringMatching(/ENOSPC/) });

      fs.free();
      await waitFor(async () => !isError((await engine.execute([{ op: 'set', key: 'after', value: 1 }]))[0]!), { what: 'writes to be accepted again', timeoutMs: 10_000 });
      acknowledged.add('after');
      expect(logs.some((line) => line.level === 'warn' && /is written again after failing for \d+ ms; writes are accepted again/.test(line.message))).toBe(true);
      expect(await engine.health()).toEqual({ ok: true });
      await engine.close();

      const reopened = openOn(dir, fsync).engine;
      const found = await reopened.execute([...acknowledged].map((key) => ({ op: 'exists' as const, key })));
      expect(found.filter((result) => !(result as { exists: boolean }).exists)).toEqual([]);
      await reopened.close();
    } finally {
      fs.unmount();
    }
  });

  it('under always: a write whose log write fails is never acknowledged, and writes resume once the disk has room', async () => {
    const fs = mountSmallFilesystem(1024 * 1024);
    try {
      const dir = join(fs.dir, 'data');
      const { engine } = openOn(dir, 'always');
      const acknowledged = new Set<string>();
      fs.fill();
      let failure: unknown;
      for (let i = 0; i < 2000 && failure === undefined; i++) {
        try {
          const [result] = await engine.execute([{ op: 'set', key: `k${i}`, value: { i, pad: 'x'.repeat(200) } }]);
          expect(isError(result!)).toBe(false);
          acknowledged.add(`k${i}`);
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toBeInstanceOf(LixError);
      expect(failure).toMatchObject({ code: 'persistence_failed', status: 503 });
      // Refused at once from now on, without touching the keyspace.
      const [next] = await engine.execute([{ op: 'set', key: 'refused', value: 1 }]);
      expect(next).toMatchObject({ error: { code: 'persistence_failed' } });
      expect(await engine.execute([{ op: 'exists', key: 'refused' }])).toMatchObject([{ exists: false }]);

      fs.free();
      await waitFor(async () => !isError((await engine.execute([{ op: 'set', key: 'after', value: 1 }]))[0]!), { what: 'writes to be accepted again', timeoutMs: 10_000 });
      acknowledged.add('after');
      await engine.close();
      const reopened = openOn(dir, 'always').engine;
      const found = await reopened.execute([...acknowledged].map((key) => ({ op: 'exists' as const, key })));
      expect(found.filter((result) => !(result as { exists: boolean }).exists)).toEqual([]);
      await reopened.close();
    } finally {
      fs.unmount();
    }
  });
});

describe('the LOCK file', () => {
  const root = mkdtempSync(join(tmpdir(), 'lix-lock-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

  it('holds pid, start time and boot id; a lock naming a live process with another start time (a reused pid) is taken over', async () => {
    const dir = join(root, 'reused');
    const first = new MemoryEngine({ persistence: { dir } });
    const [pid, start, boot] = readFileSync(join(dir, 'LOCK'), 'utf8').trim().split(' ');
    expect(Number(pid)).toBe(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(boot).toBe(bootId);
    await first.close();

    // pid 1 always runs, but it did not start at tick 1: whoever wrote this lock is gone.
    writeFileSync(join(dir, 'LOCK'), `1 1 ${bootId}\n`);
    const engine = new MemoryEngine({ persistence: { dir } });
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').split(' ')[0]).toBe(String(process.pid));
    await engine.close();
    expect(readdirSync(dir).filter((name) => name.startsWith('LOCK'))).toEqual([]);

    // The real start time of pid 1 (and this boot): held.
    const pid1Start = readFileSync('/proc/1/stat', 'utf8').split(') ')[1]!.split(' ')[19];
    writeFileSync(join(dir, 'LOCK'), `1 ${pid1Start} ${bootId}\n`);
    expect(() => new MemoryEngine({ persistence: { dir } })).toThrow(/in use by process 1 /);
    // A lock from before a reboot: taken over.
    writeFileSync(join(dir, 'LOCK'), `1 ${pid1Start} 00000000-0000-0000-0000-000000000000\n`);
    await new MemoryEngine({ persistence: { dir } }).close();
  });

  it('a LOCK still being written (created, content not yet in it) is waited for, not taken over', async () => {
    const dir = join(root, 'half-written');
    await new MemoryEngine({ persistence: { dir } }).close();
    const pid1Start = readFileSync('/proc/1/stat', 'utf8').split(') ')[1]!.split(' ')[19];
    const lockPath = join(dir, 'LOCK');
    writeFileSync(lockPath, '');
    // A writer that finishes that LOCK (for pid 1, which runs) once our engine is trying to open the directory.
    const WRITER = `
      const { existsSync, writeFileSync } = require('node:fs');
      process.stdout.write('ready\\n');
      const poll = () => existsSync(process.env.LIX_TEMP) ? writeFileSync(process.env.LIX_LOCK, process.env.LIX_CONTENT) : setImmediate(poll);
      poll();
    `;
    const writer = spawn(process.execPath, ['-e', WRITER], {
      env: { ...process.env, LIX_TEMP: join(dir, `LOCK.${process.pid}.tmp`), LIX_LOCK: lockPath, LIX_CONTENT: `1 ${pid1Start} ${bootId}\n` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
    try {
      expect(() => new MemoryEngine({ persistence: { dir } })).toThrow(/in use by process 1 /);
    } finally {
      writer.kill();
      await exited;
    }
  });

  it('of several processes racing to open one directory (free, or with a stale lock), exactly one wins', { timeout: 60_000 }, async () => {
    const DIST = fileURLToPath(new URL('../../dist/memory.js', import.meta.url));
    // Each opener loads the built core, says "ready", and opens the directory on "go": all at once.
    const OPENER = `
      const { MemoryEngine } = await import(process.env.LIX_CORE_DIST);
      let engine;
      process.stdout.write('ready\\n');
      process.stdin.once('data', () => {
        try { engine = new MemoryEngine({ persistence: { dir: process.env.LIX_DIR } }); process.stdout.write('won\\n'); }
        catch (error) { process.stdout.write('lost: ' + error.message + '\\n'); }
        // Hold the directory until the test has heard from everyone.
        process.stdin.on('end', async () => { await engine?.close(); process.exit(0); });
      });
    `;
    for (const [round, stale] of [[1, false], [2, true], [3, false]] as const) {
      const dir = join(root, `race${round}`);
      if (stale) {
        await new MemoryEngine({ persistence: { dir } }).close();
        writeFileSync(join(dir, 'LOCK'), `1 1 ${bootId}\n`);
      }
      const children = Array.from({ length: 6 }, () => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', OPENER], { env: { ...process.env, LIX_CORE_DIST: DIST, LIX_DIR: dir }, stdio: ['pipe', 'pipe', 'inherit'] });
        const lines: string[] = [];
        let partial = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          const parts = (partial + chunk).split('\n');
          partial = parts.pop()!;
          lines.push(...parts);
        });
        return { child, lines };
      });
      await waitFor(() => children.every(({ lines }) => lines.includes('ready')), { what: 'every opener to load', timeoutMs: 30_000 });
      for (const { child } of children) child.stdin.write('go\n');
      await waitFor(() => children.every(({ lines }) => lines.length === 2), { what: 'every opener to answer', timeoutMs: 20_000 });
      const outcomes = children.map(({ lines }) => lines[1]!);
      await Promise.all(children.map(({ child }) => new Promise((resolve) => (child.once('exit', resolve), child.stdin.end()))));
      expect(outcomes.filter((outcome) => outcome === 'won'), outcomes.join('\n')).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => o !== 'won')) expect(outcome).toMatch(/^lost: The data directory .* (is in use by process \d+|is being taken over by another process)/);
      expect(readdirSync(dir).filter((name) => name.startsWith('LOCK'))).toEqual([]);
    }
  });
});
