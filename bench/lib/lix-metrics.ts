import type { NearCacheStats } from 'lix-cache-sdk';

/** Cache operations a Lix server has run (every op of `lix_operations_total` in its /metrics, batches counted per command). */
export async function lixOperations(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('lix_operations_total{')) total += Number(line.split(' ').pop());
  return total;
}

/** The near-cache counters of a session-app process (its GET /bench/near-stats). */
export async function nearStats(appUrl: string): Promise<NearCacheStats> {
  const stats = (await (await fetch(`${appUrl}/bench/near-stats`)).json()) as NearCacheStats | null;
  if (!stats) throw new Error(`${appUrl} has no near cache (start it with NEAR_CACHE=true)`);
  return stats;
}

/** Near-cache hits / (hits + misses) between two readings, as a percentage. */
export function hitRate(before: NearCacheStats, after: NearCacheStats): string {
  const hits = after.hits - before.hits;
  const reads = hits + after.misses - before.misses;
  return reads > 0 ? `${((100 * hits) / reads).toFixed(2)}%` : 'n/a';
}
