import type { Command } from 'commander';
import type { CacheStats } from 'lix-cache-sdk';
import { withClient } from '../client';
import { formatBytes, formatCount, formatPercent, printJson, printLine, table, type Cell } from '../output';

/** What `stats` prints as JSON: the server's numbers (GET /cache/stats), flat, and the hit rate. */
export interface StatsSummary {
  /** `memory` or `redis`. */
  engine: string;
  /** Live keys. */
  size: number;
  /** Most keys before LRU eviction. */
  limit: number;
  /** Bytes held. */
  memory: number;
  /** Memory budget in bytes; 0: none. */
  maxMemory: number;
  /** hits / (hits + misses), 0 to 1; null before the first read. */
  hitRate: number | null;
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
  operations: number;
}

/** The numbers of `stats()` (without its nested copy of the counters), with the hit rate. */
export function summarize(stats: CacheStats): StatsSummary {
  const { engine, size, limit, memory, maxMemory, hits, misses, evictions, expirations, operations } = stats;
  const reads = hits + misses;
  return { engine, size, limit, memory, maxMemory, hitRate: reads === 0 ? null : hits / reads, hits, misses, evictions, expirations, operations };
}

/** The rows of the stats table (watch adds its own). */
export function statsRows(stats: StatsSummary): Cell[][] {
  return [
    ['engine', stats.engine],
    ['keys', `${formatCount(stats.size)} of ${formatCount(stats.limit)}`],
    ['memory', stats.maxMemory > 0 ? `${formatBytes(stats.memory)} of ${formatBytes(stats.maxMemory)}` : `${formatBytes(stats.memory)} (no budget)`],
    ['hit rate', formatPercent(stats.hitRate)],
    ['hits', formatCount(stats.hits)],
    ['misses', formatCount(stats.misses)],
    ['evictions', formatCount(stats.evictions)],
    ['expirations', formatCount(stats.expirations)],
    ['operations', formatCount(stats.operations)],
  ];
}

/** Register stats on `program`. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('print the server\'s numbers: keys and limit, memory and budget, hit rate, hits, misses, evictions, expirations, operations')
    .action(async (_options: object, command: Command) => {
      await withClient(command, async (cache, { output }) => {
        const stats = summarize(await cache.stats());
        if (output === 'json') printJson(stats);
        else printLine(table(statsRows(stats)));
      });
    });
}
