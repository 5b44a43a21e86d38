/** Size limits shared by validation, engines, server and SDK. */
export interface Limits {
  /** Longest key, in bytes of UTF-8. Default 1024. */
  maxKeyBytes: number;
  /** Largest value, in bytes of its JSON. Default 1 MiB. */
  maxValueBytes: number;
  /** Most commands in one batch. Default 1000. */
  maxBatch: number;
  /** Most tags on one key. Default 32. */
  maxTags: number;
  /** Longest TTL, in seconds. Default 10 years. */
  maxTtl: number;
  /** Largest scan page. Default 10,000. */
  maxScanLimit: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxKeyBytes: 1024,
  maxValueBytes: 1024 * 1024,
  maxBatch: 1000,
  maxTags: 32,
  maxTtl: 10 * 365 * 24 * 3600,
  maxScanLimit: 10_000,
});

/** Default scan page size when a scan gives no `limit`. */
export const DEFAULT_SCAN_LIMIT = 100;

export function resolveLimits(overrides?: Partial<Limits>): Limits {
  const limits = { ...DEFAULT_LIMITS };
  if (overrides) {
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) continue;
      if (!(name in DEFAULT_LIMITS)) throw new TypeError(`Unknown limit "${name}". Known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        throw new TypeError(`Limit "${name}" must be a positive number; got ${String(value)}.`);
      }
      limits[name as keyof Limits] = value;
    }
  }
  return limits;
}
