import { lixError } from './errors';
import type { Limits } from './limits';
import { RESULT_OVERHEAD_BYTES } from './limits';

/**
 * What is left of one `execute` call's response budget (limits.maxResponseBytes).
 * Engines charge each value they are about to return, by the length of its
 * stored JSON text, before they decode it or build any response, so a batch of
 * large reads can never make a response (or the memory behind it) huge.
 */
export class ResponseBudget {
  left: number;

  constructor(readonly limits: Limits) {
    this.left = limits.maxResponseBytes;
  }

  /** Charge a read of `key` returning `valueLength` characters of JSON (keys only: undefined); false when it does not fit. */
  take(key: string, valueLength: number | undefined): boolean {
    const size = valueLength === undefined ? key.length + 8 : key.length + RESULT_OVERHEAD_BYTES + valueLength;
    if (size > this.left) return false;
    this.left -= size;
    return true;
  }

  /**
   * How many values of a scan page to fetch at once so that even values of the largest size fit what is
   * left (at least one): the page's memory stays within the budget before any value is looked at.
   */
  chunk(wanted: number): number {
    return Math.max(1, Math.min(wanted, Math.floor(this.left / (this.limits.maxValueBytes + this.limits.maxKeyBytes + RESULT_OVERHEAD_BYTES))));
  }

  /** The per-command error of a read that does not fit. */
  error() {
    return lixError('response_too_large', this.limits.maxResponseBytes);
  }
}
