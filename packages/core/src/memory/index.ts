/**
 * lix-cache-core/memory: the in-process engine and its persistence (loads node:fs).
 * @module lix-cache-core/memory
 */
export * from './memory-engine';
export type { MutationJournal } from './mutation-journal';
export { PersistenceError } from '../persistence/persistence';
export type { PersistenceLogger, PersistenceOptions, RestoreReport, SnapshotReport } from '../persistence/persistence';
