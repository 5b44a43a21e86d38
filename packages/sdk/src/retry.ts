import type { LixCacheError } from './errors';

/** A failed attempt, with what the retry policy needs to know about it. */
export class AttemptFailure extends Error {
  constructor(
    readonly error: LixCacheError,
    /** The request may have reached the server (so an unsafe command may have run). */
    readonly mayHaveReached: boolean,
    /** Trying again could succeed (network trouble, timeout, 5xx), unlike a 4xx. */
    readonly transient: boolean,
  ) {
    super(error.message);
  }
}

export interface RetryPolicy {
  maxRetries: number;
  /** Milliseconds before the first retry, doubling after each. */
  retryDelay: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Run `attempt`, retrying transient failures where repeating is safe: always
 * when the request never left (connection refused), otherwise only when
 * `retrySafe` (no incr/decr, no conditional set in it). Throws the last LixCacheError.
 */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, retrySafe: boolean): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (failure) {
      if (!(failure instanceof AttemptFailure)) throw failure;
      const retryable = failure.transient && (retrySafe || !failure.mayHaveReached);
      if (!retryable || tries >= policy.maxRetries) throw failure.error;
      await sleep(policy.retryDelay * 2 ** tries);
    }
  }
}
