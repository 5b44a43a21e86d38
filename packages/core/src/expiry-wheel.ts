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
  /** First slot not yet swept; every bucket below it is gone. */
  private nextSlot: number;

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

  /** File `key` under its expiry time; returns the slot to pass to `remove`. */
  add(key: string, expiresAt: number): number {
    let slot = Math.floor(expiresAt / this.resolutionMs);
    // A clock stepped backwards could name a slot already swept; the sweep re-files such keys.
    if (slot < this.nextSlot) slot = this.nextSlot;
    let bucket = this.buckets.get(slot);
    if (bucket === undefined) this.buckets.set(slot, (bucket = new Set()));
    bucket.add(key);
    return slot;
  }

  remove(key: string, slot: number): void {
    const bucket = this.buckets.get(slot);
    if (bucket === undefined) return;
    bucket.delete(key);
    if (bucket.size === 0) this.buckets.delete(slot);
  }

  /**
   * Hand every key of the slots that ended before `now` to `expire`, at most
   * `budget` keys per call (the rest wait for the next sweep, so one sweep
   * never stalls the event loop). `expire` must `remove` the key or re-`add` it.
   */
  sweep(now: number, budget: number, expire: (key: string) => void): number {
    const endSlot = Math.floor(now / this.resolutionMs);
    if (this.nextSlot >= endSlot) return 0;
    // After a long pause (a suspended process, a clock jump) visiting every passed slot would cost
    // more than visiting the buckets that exist.
    const slots =
      endSlot - this.nextSlot <= this.buckets.size
        ? null
        : [...this.buckets.keys()].filter((slot) => slot < endSlot).sort((a, b) => a - b);
    let handled = 0;
    let index = 0;
    while (slots === null ? this.nextSlot < endSlot : index < slots.length) {
      const slot = slots === null ? this.nextSlot : slots[index++]!;
      const bucket = this.buckets.get(slot);
      // Advance first: a key re-filed during the walk lands in a later slot, never in this one.
      this.nextSlot = slot + 1;
      if (bucket === undefined) continue;
      for (const key of bucket) {
        if (handled === budget) {
          this.nextSlot = slot;
          return handled;
        }
        expire(key);
        handled++;
      }
      this.buckets.delete(slot);
    }
    this.nextSlot = endSlot;
    return handled;
  }

  clear(): void {
    this.buckets.clear();
  }
}
