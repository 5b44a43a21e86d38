/**
 * lix-cache-sdk: the typed client, `new LixCache()`.
 * @module lix-cache-sdk
 */
export { LixCache } from './lix-cache';
export { Collection, type BatchSetItem } from './collection';
export { Value } from './value';
export type { LixCacheConfig, BatchingOptions, LixLogger } from './config';
export type { NearCacheOptions, NearCacheStats } from './near-cache';
export {
  LixCacheError,
  LixConnectionError,
  LixTimeoutError,
  LixAuthError,
  LixTypeError,
  LixValidationError,
  LixServerError,
  LixNotFoundError,
  LixResponseTooLargeError,
  type LixIssue,
} from './errors';
export type { Schema, InferSchema, SafeParseSchema } from './schema';
export type * from './options';
export type { CacheStats, CacheHealth, CacheCounters } from './stats-health';
export type { ScanResult, ClearResult, BatchOperation, BatchResult, HealthResponse } from './original-types';
export type { Command, Result, ErrorResult, Json, JsonObject, ResultByOp } from 'lix-cache-core';
export { isErrorResult } from 'lix-cache-core';
export { redactUrl } from 'lix-cache-core';
