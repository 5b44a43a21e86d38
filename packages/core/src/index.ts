export * from './commands';
export * from './errors';
export * from './limits';
export * from './validate';
export * from './engine';
export * from './memory-engine';
export type { MutationJournal } from './mutation-journal';
export * from './redis-engine';
