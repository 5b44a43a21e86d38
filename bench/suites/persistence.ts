import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../../test/helpers/server-process';
import { load } from '../lib/autocannon';
import type { BenchSettings, Section } from '../lib/report';
import { formatNumber, interleave, ratio } from '../lib/stats';

const POLICIES = ['no', 'everysec', 'always'] as const;

/**
 * The cost of durability: SET throughput of a Lix server with no data dir,
 * beside the same server writing its append-only log under each fsync policy.
 */
export async function persistence(settings: BenchSettings): Promise<Section> {
  const dirs: string[] = [];
  const servers: { name: string; server: ServerProcess }[] = [{ name: 'no persistence', server: await startServer() }];
  try {
    for (const policy of POLICIES) {
      const dir = mkdtempSync(join(tmpdir(), `lix-bench-${policy}-`));
      dirs.push(dir);
      servers.push({ name: `--data-dir, --fsync ${policy}`, server: await startServer({ args: ['--data-dir', dir, '--fsync', policy] }) });
    }
    let n = 0;
    const systems = servers.map(({ name, server }) => ({
      name,
      // A fresh key per round so each round appends real records rather than rewriting one key.
      measure: () => load({ url: `${server.url}/cache/set`, method: 'POST', body: JSON.stringify({ key: `bench:persist:${n++}`, value: { userId: 'user-1', username: 'alice' } }), seconds: settings.seconds }),
    }));
    const results = await interleave(systems, settings.rounds);
    const baseline = results.get(servers[0]!.name)!.rps;
    return {
      title: 'Durability: POST /cache/set by fsync policy (50 connections)',
      header: ['server', 'requests/s', 'p50 ms', 'p99 ms', 'vs no persistence', 'errors'],
      rows: systems.map(({ name }) => {
        const r = results.get(name)!;
        return [name, formatNumber(r.rps), formatNumber(r.p50, 1), formatNumber(r.p99, 1), ratio(r.rps, baseline), String(r.errors)];
      }),
      notes: ['`always` acknowledges a write only after fsync; one fsync covers every write of an event-loop turn.'],
    };
  } finally {
    await Promise.all(servers.map(({ server }) => server.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
