/*
 * Shapes of the original Lix Cache SDK, so code written against it keeps compiling.
 * What this SDK's methods return is assignable to each of them.
 */

/** What `scan()` resolves, in the original SDK's terms: `items` (or `keys` with `keysOnly`) and `count`. */
export interface ScanResult<T = unknown> {
  /** The matching keys with their values; absent with `keysOnly`. */
  items?: Array<{ key: string; value: T }>;
  /** The matching keys; present with `keysOnly`. */
  keys?: string[];
  /** How many keys matched. */
  count: number;
}

/** What `clear()` resolves. */
export interface ClearResult {
  /** Always true: a failed clear rejects instead. */
  success: boolean;
  /** How many keys were deleted. */
  cleared: number;
}

/** One operation of the original SDK's `batch()`; `batch()` takes these alongside every other command. */
export type BatchOperation =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: unknown; ttl?: number }
  | { op: 'delete'; key: string };

/**
 * The result of one {@link BatchOperation}. The results `batch()` gives for get, set and delete
 * carry these fields (and more: `found`, `ttl`, `written`, `deleted`); a failed command gets an
 * `ErrorResult` instead (narrow with `isErrorResult`).
 */
export type BatchResult =
  | { op: 'get'; key: string; value: unknown }
  | { op: 'set'; key: string; success: boolean }
  | { op: 'delete'; key: string; success: boolean };

/** What `health()` resolves, in the original SDK's terms. */
export interface HealthResponse {
  status: 'healthy' | 'unhealthy';
}
