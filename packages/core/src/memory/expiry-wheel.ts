/**
 * Keys by expiry time, bucketed into slots of `resolutionMs`
 * (slot = floor(expiresAt / resolutionMs)). A sweep walks only the slots
 * that have passed since the previous sweep, so reclaiming expired keys costs
 * what expired, not the size of the cache. Each key sits in exactly one
 * bucket (its caller remembers which), so re-expiring a key never leaves a
 * stale entry behind.
 */
export class ExpiryWheel {
  private readonly buckets = new Map<number, Set<string>>();
  /** First slot not yet swept; every bucket below it is gone (or is `sweeping`). */
  private nextSlot: number;
  /**
   * The bucket being swept, already out of `buckets`, and the walk through it: kept across calls so a sweep
   * that stopped at its budget resumes where it stopped, and reclaiming a key costs no delete from its bucket.
   */
  private sweeping: { slot: number; keys: IterableIterator<string> } | undefined;
  /** Keys filed, including those of the bucket being swept that were not handed over yet (for the memory estimate). */
  keyCount = 0;
  /** Passed slots still to sweep after a long pause, latest first (see `nextDue`). */
  private overdue: number[] = [];

  constructor(
    private readonly resolutionMs: number,
    now: number,
  ) {
    this.nextSlot = Math.floor(now / resolutionMs);
  }

  /** How many buckets hold keys (for tests and diagnostics). */
  get bucketCount(): number {
    return this.buckets.size;
  }

  /** The slot a key expiring at `expiresAt` goes to. */
  slotOf(expiresAt: number): number {
    const slot = Math.floor(expiresAt / this.resolutionMs);
    // A clock stepped backwards could name a slot already swept; the sweep re-files such keys.
    return slot < this.nextSlot ? this.nextSlot : slot;
  }

  /** File `key` under `slot` (from `slotOf`). */
  add(key: string, slot: number): void {
    let bucket = this.buckets.get(slot);
    if (bucket === undefined) this.buckets.set(slot, (bucket = new Set()));
    const before = bucket.size;
    bucket.add(key);
    this.keyCount += bucket.size - before;
  }

  remove(key: string, slot: number): void {
    const bucket = this.buckets.get(slot);
    if (bucket === undefined) return;
    if (bucket.delete(key)) this.keyCount--;
    if (bucket.size === 0) this.buckets.delete(slot);
  }

  /**
   * Hand every key of the slots that ended before `now` to `expire`, with
   * its slot, at most `budget` keys per call (the next call goes on from
   * there). A key handed over may have been removed or re-filed since the
   * sweep reached its bucket: `expire` checks that it still sits in `slot`,
   * then removes or re-adds it.
   */
  sweep(now: number, budget: number, expire: (key: string, slot: number) => void): number {
    const endSlot = Math.floor(now / this.resolutionMs);
    let handled = 0;
    for (;;) {
      if (this.sweeping === undefined) {
        const slot = this.nextDue(endSlot);
        if (slot === undefined) return handled;
        this.sweeping = { slot, keys: this.buckets.get(slot)!.values() };
        this.buckets.delete(slot);
      }
      const { slot, keys } = this.sweeping;
      // Leaving a Set iterator early keeps it usable: the next call resumes it.
      for (const key of keys) {
        this.keyCount--;
        expire(key, slot);
        if (++handled === budget) return handled;
      }
      this.sweeping = undefined;
    }
  }

  clear(): void {
    this.buckets.clear();
    this.keyCount = 0;
    this.sweeping = undefined;
    this.overdue = [];
  }

  /** The earliest passed slot that holds keys, marked swept; undefined when none is left. */
  private nextDue(endSlot: number): number | undefined {
    // After a long pause (a suspended process, a clock jump) visiting every passed slot would cost
    // more than sorting the buckets that exist.
    if (this.overdue.length === 0 && endSlot - this.nextSlot > this.buckets.size) {
      this.overdue = [...this.buckets.keys()].filter((slot) => slot < endSlot).sort((a, b) => b - a);
      this.nextSlot = endSlot;
    }
    for (let slot = this.overdue.pop(); slot !== undefined; slot = this.overdue.pop()) if (this.buckets.has(slot)) return slot;
    while (this.nextSlot < endSlot) {
      const slot = this.nextSlot++;
      if (this.buckets.has(slot)) return slot;
    }
    return undefined;
  }
}
