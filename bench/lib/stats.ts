/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Run each system's measurement in interleaved rounds (A B C, A B C, ...) so
 * that the machine's drift between rounds hits every system alike, then keep
 * each system's median per metric.
 */
export async function interleave<M extends Record<string, number>>(
  systems: readonly { name: string; measure: () => Promise<M> }[],
  rounds: number,
  onRound?: (name: string, round: number, result: M) => void,
): Promise<Map<string, M>> {
  const samples = new Map<string, M[]>(systems.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) {
      const result = await system.measure();
      samples.get(system.name)!.push(result);
      onRound?.(system.name, round, result);
    }
  }
  const medians = new Map<string, M>();
  for (const [name, results] of samples) {
    const keys = Object.keys(results[0]!) as (keyof M)[];
    medians.set(name, Object.fromEntries(keys.map((k) => [k, median(results.map((r) => r[k] as number))])) as M);
  }
  return medians;
}

export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function ratio(value: number, baseline: number): string {
  return baseline > 0 ? `${(value / baseline).toFixed(2)}×` : 'n/a';
}

/** The p-th percentile (0–100) of a non-empty list, nearest rank: a value that was measured. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
