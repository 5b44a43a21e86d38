import type { CacheStats } from 'lix-cache-sdk';
import type { ServerInfo } from './api';
import { LiveChart } from './charts';
import { byId, show } from './dom';
import { bytes, count, duration, percent } from './format';

/** The commands charted on their own; the rest are summed as "other". */
const CHARTED = ['get', 'set', 'delete'] as const;

/** The overview tab: figures from `/cache/stats` and `/cache/info`, and four live charts. */
export class Overview {
  private readonly ops = new LiveChart(byId('chart-ops'), [...CHARTED, 'other'], (v) => count(v));
  private readonly hits = new LiveChart(byId('chart-hits'), ['hit rate'], (v) => `${v}%`);
  private readonly memory = new LiveChart(byId('chart-memory'), ['used'], (v) => count(v));
  private readonly keys = new LiveChart(byId('chart-keys'), ['keys'], (v) => count(v));
  private previous: { time: number; operations: Record<string, number>; hits: number; misses: number } | undefined;

  update(stats: CacheStats, info: ServerInfo, time: number): void {
    const lookups = stats.hits + stats.misses;
    show('stat', 'size', count(stats.size));
    show('stat', 'limit', `of ${count(stats.limit)} (item limit)`);
    show('stat', 'memory', bytes(stats.memory));
    show('stat', 'maxMemory', stats.maxMemory > 0 ? `of ${bytes(stats.maxMemory)}` : 'no memory limit');
    const bar = byId<HTMLProgressElement>('memory-bar');
    bar.hidden = stats.maxMemory === 0;
    bar.value = stats.maxMemory > 0 ? Math.min(1, stats.memory / stats.maxMemory) : 0;
    show('stat', 'hitRate', lookups > 0 ? percent(stats.hits / lookups) : '–');
    show('stat', 'hits', count(stats.hits));
    show('stat', 'misses', count(stats.misses));
    show('stat', 'operations', count(stats.operations));
    show('stat', 'evictions', count(stats.evictions));
    show('stat', 'expirations', count(stats.expirations));
    const errors = Object.entries(info.errors).sort(([, a], [, b]) => b - a);
    show('stat', 'errors', count(errors.reduce((sum, [, n]) => sum + n, 0)));
    show('stat', 'errorCodes', errors.length ? errors.slice(0, 3).map(([code, n]) => `${code} ${count(n)}`).join(' · ') : 'none since start');
    show('stat', 'engine', stats.engine);
    show('stat', 'health', info.health.ok ? 'healthy' : `unhealthy: ${info.health.message ?? info.health.code ?? ''}`);
    const { persistence } = info;
    show('stat', 'persistence', persistence.kind === 'data-dir' ? 'on disk' : persistence.kind === 'redis' ? 'Redis' : 'memory only');
    show('stat', 'persistenceDetail', persistence.kind === 'data-dir' ? `${persistence.dataDir} · fsync ${persistence.fsync}` : persistence.kind === 'redis' ? info.store : 'a restart starts empty (--data-dir keeps it)');
    show('stat', 'version', `lix-cache-server ${info.version}`);
    show('stat', 'uptime', duration(info.uptime));

    const last = this.previous;
    this.previous = { time, operations: info.operations, hits: stats.hits, misses: stats.misses };
    if (!last) return;
    const seconds = Math.max((time - last.time) / 1000, 0.001);
    const rate = (op: string) => Math.max(0, (info.operations[op] ?? 0) - (last.operations[op] ?? 0)) / seconds;
    const perOp = Object.keys(info.operations).map((op) => [op, rate(op)] as const);
    const total = perOp.reduce((sum, [, r]) => sum + r, 0);
    const charted = CHARTED.map((op) => rate(op));
    show('stat', 'opsPerSecond', count(Math.round(total)));
    this.ops.push(time, [...charted.map(Math.round), Math.round(total - charted.reduce((a, b) => a + b, 0))]);
    const newLookups = stats.hits - last.hits + (stats.misses - last.misses);
    this.hits.push(time, [newLookups > 0 ? Math.round(((stats.hits - last.hits) / newLookups) * 1000) / 10 : lookups > 0 ? Math.round((stats.hits / lookups) * 1000) / 10 : 0]);
    this.memory.push(time, [Math.round((stats.memory / 2 ** 20) * 100) / 100]);
    this.keys.push(time, [stats.size]);
  }
}
