/**
 * When the log reaches the disk, and what a crash can lose of the writes that were acknowledged:
 * - `always`: every write is fsynced before it is acknowledged (one fsync per
 *   event-loop turn covers all writes of that turn: group commit). Neither a
 *   killed process nor a machine crash loses an acknowledged write; a write
 *   whose write or fsync fails is answered with an error, never acknowledged.
 * - `everysec`: written to the file at the end of each event-loop turn (after
 *   the reply may already have been sent), fsynced once a second in the
 *   background. A killed process (kill -9) loses what was acknowledged in the
 *   turn it died in, a machine crash or power loss up to the last second or so.
 * - `no`: written at the end of each turn like `everysec`, fsynced only when
 *   the engine closes; a killed process loses that turn, a machine crash
 *   whatever the OS had not written back yet (typically up to 30 s on Linux).
 * Under `everysec` and `no`, once the log has failed for longer than one
 * second, writes are refused (`persistence_failed`) until it can be written
 * again; under `always` at once.
 */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

/** Every FsyncPolicy, for validating settings (kept apart from the log's node:fs code so that lix-cache-core can export it). */
export const FSYNC_POLICIES: readonly FsyncPolicy[] = ['always', 'everysec', 'no'];
