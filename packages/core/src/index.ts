/**
 * lix-cache-core: the command language, its validation and error registry, and the engines.
 * @module lix-cache-core
 */
export * from './commands';
export * from './errors';
export * from './limits';
export * from './validate';
export * from './engine';
export * from './memory-engine';
export type { MutationJournal } from './mutation-journal';
export * from './redis-engine';
export { PersistenceError } from './persistence/persistence';
export type { PersistenceLogger, PersistenceOptions, RestoreReport, SnapshotReport } from './persistence/persistence';
export type { FsyncPolicy } from './persistence/append-only-log';
export { FSYNC_POLICIES } from './persistence/append-only-log';
export { redactUrl, redactUrls } from './redact-url';
