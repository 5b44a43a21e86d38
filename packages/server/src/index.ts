/**
 * lix-cache-server: the HTTP server: `serve`, `buildApp` and its configuration.
 * @module lix-cache-server
 */
export { buildApp } from './app';
export { createKeyCheck } from './auth';
export type { LogFormat, LogLevel, ServerConfig, ServerOptions } from './config';
export { ConfigError, DEFAULT_CONFIG, LOG_FORMATS, LOG_LEVELS, mergeOptions, optionsFromEnv, resolveConfig } from './config';
export { openEngine } from './engine';
export { ServerMetrics } from './metrics';
export type { RunningServer } from './serve';
export { serve } from './serve';
