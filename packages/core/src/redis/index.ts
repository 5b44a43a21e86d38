/**
 * lix-cache-core/redis: the engine in front of Valkey/Redis (loads ioredis, an optional peer dependency).
 * @module lix-cache-core/redis
 */
export * from './redis-engine';
