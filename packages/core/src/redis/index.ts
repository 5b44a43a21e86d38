// lix-cache-core/redis: the engine in front of Valkey/Redis (loads ioredis, an optional peer dependency).
export * from './redis-engine';
