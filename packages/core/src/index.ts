/**
 * lix-cache-core: the command language, its validation, errors, limits and the Engine
 * interface. Light on purpose (loads neither ioredis nor node:fs): the engines are the
 * subpath entries lix-cache-core/memory and lix-cache-core/redis.
 * @module lix-cache-core
 */
export * from './commands/commands';
export * from './commands/errors';
export * from './commands/limits';
export * from './commands/validate';
export * from './commands/engine';
export { ChangeFeed } from './commands/change-feed';
export { redactUrl, redactUrls } from './commands/redact-url';
export { FSYNC_POLICIES, type FsyncPolicy } from './persistence/fsync-policy';
export { parseRedisUrl, type RedisTarget } from './redis/redis-url';
export { importWithPeer, isMissingPackage, missingPeer } from './optional-peer';
