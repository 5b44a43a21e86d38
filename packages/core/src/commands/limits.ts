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
  /**
   * Largest response of one `execute` call (a batch, a scan page), counted before it is built
   * as the JSON text length of the values it returns plus a small per-result overhead. Reads
   * past it answer `response_too_large` per command; a scan page ends early with a cursor.
   * Default 64 MiB, raised to `minResponseBytes(limits)` when larger values are allowed; an
   * explicit value must be at least that. Server: LIX_MAX_RESPONSE_BYTES.
   */
  maxResponseBytes: number;
}

/** The limits when none are given (see `Limits` for each). */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxKeyBytes: 1024,
  maxValueBytes: 1024 * 1024,
  maxBatch: 1000,
  maxTags: 32,
  maxTtl: 10 * 365 * 24 * 3600,
  maxScanLimit: 10_000,
  maxResponseBytes: 64 * 1024 * 1024,
});

/**
 * Bytes a read's result costs in a response on top of its key and value text
 * (`{"op":"get","key":…,"value":…,"ttl":…,"found":true},`), so many small
 * results are counted too.
 */
export const RESULT_OVERHEAD_BYTES = 64;

/**
 * The smallest response budget that still fits one result of the largest key
 * and value (plus the response's wrapper), so a single read always fits.
 */
export function minResponseBytes(limits: Pick<Limits, 'maxKeyBytes' | 'maxValueBytes'>): number {
  return limits.maxValueBytes + limits.maxKeyBytes + 1024;
}

/**
 * Fit the response budget to the other limits, in place: a default budget (`explicit` false) is
 * raised to `minResponseBytes` when larger values are allowed; an explicit one too small gets the
 * message naming the settings (null when it is fine).
 */
export function settleResponseBudget(limits: Limits, explicit: boolean): string | null {
  const min = minResponseBytes(limits);
  if (!explicit) limits.maxResponseBytes = Math.max(limits.maxResponseBytes, min);
  if (limits.maxResponseBytes >= min) return null;
  return (
    `The response limit maxResponseBytes (LIX_MAX_RESPONSE_BYTES, --max-response-bytes) is ${limits.maxResponseBytes} bytes, ` +
    `too small for one result of the largest value: it must be at least ${min} (maxValueBytes ${limits.maxValueBytes} + maxKeyBytes ${limits.maxKeyBytes} + 1024). ` +
    'Raise it, or lower LIX_MAX_VALUE_BYTES.'
  );
}

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
  const problem = settleResponseBudget(limits, overrides?.maxResponseBytes !== undefined);
  if (problem !== null) throw new TypeError(problem);
  return limits;
}
