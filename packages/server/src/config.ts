import type { FsyncPolicy, Limits } from 'lix-cache-core';
import { DEFAULT_LIMITS, FSYNC_POLICIES, parseRedisUrl, redactUrl, settleResponseBudget } from 'lix-cache-core';
import { derivedMaxMemory } from './heap-budget';

/** Pino log levels the server accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** How log lines are written. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
/**
 * - `json`: one JSON object per line (for log collectors).
 * - `pretty`: coloured, human-readable lines (pino-pretty), for a terminal.
 */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Everything the server needs to run, validated. Build one with `resolveConfig`. */
export interface ServerConfig {
  /**
   * Interface to listen on. Default `localhost` (IPv4 and IPv6 loopback); `0.0.0.0` for containers. A non-loopback
   * address needs API keys (`apiKeys`) or `protectedMode: false`. Env `HOST`, flag `--host`.
   */
  host: string;
  /** TCP port. Default 4000. Env `PORT`, flag `--port`. */
  port: number;
  /**
   * Where the data lives: `memory://` (default, in-process), `redis://[user:pass@]host:port[/db]` (`rediss://` for TLS),
   * or `redis-cluster://host1:port1,host2:port2`; Redis URLs take `?keyPrefix=` (default `lix:`). Env `LIX_STORE`, flag `--store`.
   */
  store: string;
  /** Most keys held; past it the least recently used are evicted. Default 500000. Env `LIX_CACHE_LIMIT`, flag `--limit`. */
  limit: number;
  /**
   * Memory budget in bytes for the memory store (estimated heap bytes; past it the least recently used keys are evicted).
   * Default: derived from the heap limit (half of what V8's heap_size_limit holds beyond 64 MiB; see heap-budget.ts), so the
   * store evicts before the process runs out of heap. 0 means none (only `limit` bounds the store; a flood can then exhaust the heap).
   * Env `LIX_MAX_MEMORY`, flag `--max-memory` (e.g. `512mb`).
   */
  maxMemory: number;
  /** Pino level. Default `info`; `debug` logs every request. Env `LOG_LEVEL`, flag `--log-level`. */
  logLevel: LogLevel;
  /** `pretty` when stdout is a terminal, else `json`. Env `LIX_LOG_FORMAT`, flag `--log-format`. */
  logFormat: LogFormat;
  /**
   * Serve the dashboard at `/dashboard` (and redirect `/` to it). Default: on when `host` is a loopback address, off
   * otherwise, so a server reachable from the network shows it only when asked. It is behind the same API keys as the API.
   * Env `LIX_DASHBOARD`, flag `--dashboard`.
   */
  dashboard: boolean;
  /**
   * Require `Authorization: Bearer <key>` on every path but `/health`. Default: on when `apiKeys` are given, off otherwise;
   * `false` together with keys is refused at start-up (keys never leave auth silently off). Env `LIX_AUTH_ENABLED`.
   */
  authEnabled: boolean;
  /** Keys accepted when auth is on; giving any turns auth on. Env `LIX_API_KEYS` (comma-separated). */
  apiKeys: string[];
  /**
   * Web page origins allowed to call the server from a browser (CORS), e.g. `['https://app.example.com']`. Default none:
   * a request whose `Origin` is neither listed nor the server's own is refused with 403 before any work. `['*']` allows
   * every origin (any web page a user opens can then read and write the cache). Env `LIX_CORS_ORIGINS`, flag `--cors-origins` (comma-separated).
   */
  corsOrigins: string[];
  /**
   * With auth off, the `Host` names the server answers besides loopback ones (`localhost`, `127.0.0.0/8`, `[::1]`, any port),
   * e.g. `['cache.internal']`; other Hosts get 403, which stops DNS rebinding. `['*']` accepts any. Ignored when auth is on
   * (a key is needed anyway). The listen `host`, when it is a specific address, is always accepted. Default none.
   * Env `LIX_ALLOWED_HOSTS`, flag `--allowed-hosts` (comma-separated).
   */
  allowedHosts: string[];
  /**
   * Protected mode: refuse to start on a non-loopback `host` (e.g. `0.0.0.0`) while auth is off, since anyone who can
   * reach the port could then read every session and forge one. `false` opts out. Default true.
   * Env `LIX_PROTECTED_MODE`, flag `--protected-mode`.
   */
  protectedMode: boolean;
  /** Longest time a client may take to send a request's headers, in ms; then it gets 408 and is closed (slow-loris defence). Default 10000. Env `LIX_HEADERS_TIMEOUT_MS`, flag `--headers-timeout`. */
  headersTimeoutMs: number;
  /** Longest time a client may take to send a whole request (headers and body), in ms; at least `headersTimeoutMs`. Default 30000. Env `LIX_REQUEST_TIMEOUT_MS`, flag `--request-timeout`. */
  requestTimeoutMs: number;
  /** Most open client connections; connections past it are closed as soon as they are accepted. Default 10000. Env `LIX_MAX_CONNECTIONS`, flag `--max-connections`. */
  maxConnections: number;
  /**
   * Most open connections from one client IP address; 0 means no per-address cap (the default, since clients behind
   * one proxy or NAT share an address). Env `LIX_MAX_CONNECTIONS_PER_IP`, flag `--max-connections-per-ip`.
   */
  maxConnectionsPerIp: number;
  /** Largest request body in bytes. Default 8 MiB. Env `LIX_MAX_BODY_BYTES`, flag `--max-body-bytes`. */
  maxBodyBytes: number;
  /** Command limits (key and value size, batch size, tags). Env `LIX_MAX_KEY_BYTES`, `LIX_MAX_VALUE_BYTES`, `LIX_MAX_BATCH`, `LIX_MAX_TAGS`, `LIX_MAX_RESPONSE_BYTES`. */
  limits: Limits;
  /** How long a graceful shutdown may take before the process exits anyway, in ms. Default 10000. */
  shutdownTimeoutMs: number;
  /**
   * Make the memory store durable: an append-only log plus snapshots in this directory, loaded at start-up.
   * Default: none (nothing is written to disk). Env `LIX_DATA_DIR`, flag `--data-dir`.
   */
  dataDir?: string;
  /** With `dataDir`: `always`, `everysec` (default) or `no`. Env `LIX_FSYNC`, flag `--fsync`. */
  fsync: FsyncPolicy;
  /** With `dataDir`: snapshot (compacting the log) this often in ms when anything changed; 0: by log size only. Default 60000. Env `LIX_SNAPSHOT_INTERVAL_MS`, flag `--snapshot-interval`. */
  snapshotIntervalMs: number;
  /**
   * How often `GET /cache/events` sends a heartbeat, in ms. Near caches drop their copies when three in a row go missing,
   * so this bounds how long a silently lost channel goes unnoticed. Default 2000. Env `LIX_EVENTS_HEARTBEAT_MS`, flag `--events-heartbeat`.
   */
  eventsHeartbeatMs: number;
  /**
   * Most keys whose readers the server remembers for near caches (tracking mode); past it the oldest is invalidated
   * at its readers and forgotten. Default 1000000. Env `LIX_MAX_TRACKED_KEYS`, flag `--max-tracked-keys`.
   */
  maxTrackedKeys: number;
}

/** Options for `resolveConfig`/`buildApp`: any subset of ServerConfig, `limits` partial too. */
export type ServerOptions = Partial<Omit<ServerConfig, 'limits'>> & { limits?: Partial<Limits> };

/**
 * Fixed defaults. Derived by `resolveConfig`: `maxMemory` from the heap limit (see `derivedMaxMemory`), `logFormat`
 * from whether stdout is a terminal, `dashboard` from whether `host` is loopback.
 */
export const DEFAULT_CONFIG: Readonly<Omit<ServerConfig, 'limits' | 'apiKeys' | 'corsOrigins' | 'allowedHosts' | 'dataDir' | 'maxMemory' | 'logFormat' | 'dashboard'>> = Object.freeze({
  host: 'localhost',
  port: 4000,
  store: 'memory://',
  limit: 500_000,
  logLevel: 'info',
  authEnabled: false,
  protectedMode: true,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  maxBodyBytes: 8 * 1024 * 1024,
  shutdownTimeoutMs: 10_000,
  fsync: 'everysec',
  snapshotIntervalMs: 60_000,
  eventsHeartbeatMs: 2000,
  maxTrackedKeys: 1_000_000,
});

/** A setting with a bad value. `setting` names the flag and/or variable that holds it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

// Hand-written parsers: each error must name the flag or variable it came from,
// and common parsers (parseInt, bytes.parse) accept "12abc" as 12.

/** A whole number from `min` to `max`, e.g. "4000". */
export function parseInteger(text: string, setting: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const trimmed = text.trim().replace(/_/g, '');
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${setting} must be a whole number from ${min} to ${max}; got "${text}".`);
  }
  return value;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3, tb: 1024 ** 4, tib: 1024 ** 4 };

/** A size in bytes: "1048576", "512kb", "512mb", "1.5gb" (units are powers of 1024; case-insensitive). */
export function parseSize(text: string, setting: string, min = 0): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const value = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${setting} must be a size such as 1048576, 512kb, 512mb or 2gb${min > 0 ? ` (at least ${min} bytes)` : ''}; got "${text}".`);
  }
  return value;
}

/** true/false, also 1/0, yes/no, on/off. */
export function parseBoolean(text: string, setting: string): boolean {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off', ''].includes(value)) return false;
  throw new ConfigError(`${setting} must be true or false; got "${text}".`);
}

export function parseLogFormat(text: string, setting: string): LogFormat {
  const value = text.trim().toLowerCase();
  if (!(LOG_FORMATS as readonly string[]).includes(value)) {
    throw new ConfigError(`${setting} must be json (one JSON object per line) or pretty (coloured lines for a terminal); got "${text}".`);
  }
  return value as LogFormat;
}

export function parseLogLevel(text: string, setting: string): LogLevel {
  const value = text.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`${setting} must be one of ${LOG_LEVELS.join(', ')}; got "${text}".`);
  }
  return value as LogLevel;
}

/** `memory://`, `memory`, `redis://…`, `rediss://…`, `redis-cluster://…` or `rediss-cluster://…`. */
export function parseStore(text: string, setting: string): string {
  const value = text.trim();
  if (value === 'memory' || value === 'memory://') return 'memory://';
  if (/^rediss?(-cluster)?:\/\/./.test(value)) {
    try {
      parseRedisUrl(value);
      return value;
    } catch (error) {
      throw new ConfigError(`${setting}: ${(error as Error).message}`);
    }
  }
  throw new ConfigError(
    `${setting} must be memory:// (the in-process store), a Redis URL such as redis://localhost:6379, or a Redis Cluster URL such as redis-cluster://host1:7000,host2:7001; got "${redactUrl(text)}".`,
  );
}

export function parseFsync(text: string, setting: string): FsyncPolicy {
  const value = text.trim().toLowerCase();
  if (!(FSYNC_POLICIES as readonly string[]).includes(value)) {
    throw new ConfigError(`${setting} must be one of ${FSYNC_POLICIES.join(', ')} (everysec: at most the last second is lost in a crash); got "${text}".`);
  }
  return value as FsyncPolicy;
}

/** A comma-separated list, blanks dropped. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** An origin list: `*`, or origins such as `https://app.example.com`; empty: none. */
export function parseOrigins(text: string, setting: string): string[] {
  const origins = parseList(text);
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(`${setting} must be * or comma-separated origins such as https://app.example.com (scheme, host and port; no path); got "${origin}".`);
    }
  }
  return origins.map((origin) => origin.replace(/\/$/, ''));
}

/** A list of host names or addresses for the Host check, e.g. `cache.internal,10.0.0.5`, or `*`; no ports. */
export function parseHosts(text: string, setting: string): string[] {
  const hosts = parseList(text).map((host) => host.toLowerCase());
  for (const host of hosts) {
    if (host === '*') continue;
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(host)) {
      throw new ConfigError(`${setting} must be * or comma-separated host names or addresses such as cache.internal or 10.0.0.5 (no scheme, no port; IPv6 in brackets); got "${host}".`);
    }
  }
  return hosts;
}

/** Whether `host` (a listen address or a Host header's name, without port) names only the loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '::1' ||
    name === '[::1]' ||
    /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}

/** The environment variable behind each setting, and how to read it. */
export const ENV_SETTINGS = {
  HOST: (text: string) => ({ host: text.trim() }),
  PORT: (text: string) => ({ port: parseInteger(text, 'PORT', 0, 65535) }),
  LIX_STORE: (text: string) => ({ store: parseStore(text, 'LIX_STORE') }),
  LIX_CACHE_LIMIT: (text: string) => ({ limit: parseInteger(text, 'LIX_CACHE_LIMIT') }),
  LIX_MAX_MEMORY: (text: string) => ({ maxMemory: parseSize(text, 'LIX_MAX_MEMORY') }),
  LOG_LEVEL: (text: string) => ({ logLevel: parseLogLevel(text, 'LOG_LEVEL') }),
  LIX_LOG_FORMAT: (text: string) => ({ logFormat: parseLogFormat(text, 'LIX_LOG_FORMAT') }),
  LIX_DASHBOARD: (text: string) => ({ dashboard: parseBoolean(text, 'LIX_DASHBOARD') }),
  LIX_AUTH_ENABLED: (text: string) => ({ authEnabled: parseBoolean(text, 'LIX_AUTH_ENABLED') }),
  LIX_API_KEYS: (text: string) => ({ apiKeys: parseList(text) }),
  LIX_CORS_ORIGINS: (text: string) => ({ corsOrigins: parseOrigins(text, 'LIX_CORS_ORIGINS') }),
  LIX_ALLOWED_HOSTS: (text: string) => ({ allowedHosts: parseHosts(text, 'LIX_ALLOWED_HOSTS') }),
  LIX_PROTECTED_MODE: (text: string) => ({ protectedMode: parseBoolean(text, 'LIX_PROTECTED_MODE') }),
  LIX_HEADERS_TIMEOUT_MS: (text: string) => ({ headersTimeoutMs: parseInteger(text, 'LIX_HEADERS_TIMEOUT_MS') }),
  LIX_REQUEST_TIMEOUT_MS: (text: string) => ({ requestTimeoutMs: parseInteger(text, 'LIX_REQUEST_TIMEOUT_MS') }),
  LIX_MAX_CONNECTIONS: (text: string) => ({ maxConnections: parseInteger(text, 'LIX_MAX_CONNECTIONS') }),
  LIX_MAX_CONNECTIONS_PER_IP: (text: string) => ({ maxConnectionsPerIp: parseInteger(text, 'LIX_MAX_CONNECTIONS_PER_IP', 0) }),
  LIX_MAX_BODY_BYTES: (text: string) => ({ maxBodyBytes: parseSize(text, 'LIX_MAX_BODY_BYTES', 1) }),
  LIX_MAX_KEY_BYTES: (text: string) => ({ limits: { maxKeyBytes: parseInteger(text, 'LIX_MAX_KEY_BYTES') } }),
  LIX_MAX_VALUE_BYTES: (text: string) => ({ limits: { maxValueBytes: parseSize(text, 'LIX_MAX_VALUE_BYTES', 1) } }),
  LIX_MAX_BATCH: (text: string) => ({ limits: { maxBatch: parseInteger(text, 'LIX_MAX_BATCH') } }),
  LIX_MAX_TAGS: (text: string) => ({ limits: { maxTags: parseInteger(text, 'LIX_MAX_TAGS') } }),
  LIX_MAX_RESPONSE_BYTES: (text: string) => ({ limits: { maxResponseBytes: parseSize(text, 'LIX_MAX_RESPONSE_BYTES', 1) } }),
  LIX_DATA_DIR: (text: string) => ({ dataDir: text.trim() }),
  LIX_FSYNC: (text: string) => ({ fsync: parseFsync(text, 'LIX_FSYNC') }),
  LIX_SNAPSHOT_INTERVAL_MS: (text: string) => ({ snapshotIntervalMs: parseInteger(text, 'LIX_SNAPSHOT_INTERVAL_MS', 0) }),
  LIX_EVENTS_HEARTBEAT_MS: (text: string) => ({ eventsHeartbeatMs: parseInteger(text, 'LIX_EVENTS_HEARTBEAT_MS') }),
  LIX_MAX_TRACKED_KEYS: (text: string) => ({ maxTrackedKeys: parseInteger(text, 'LIX_MAX_TRACKED_KEYS') }),
} satisfies Record<string, (text: string) => ServerOptions>;

/** Read the settings present in `env` (unset and empty variables are skipped). Throws ConfigError naming the variable. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ServerOptions {
  const options: ServerOptions = {};
  for (const [name, read] of Object.entries(ENV_SETTINGS)) {
    const text = env[name];
    if (text === undefined || text.trim() === '') continue;
    mergeOptions(options, read(text));
  }
  return options;
}

/** Layer `over` on top of `base` (in place); `limits` merge field by field. */
export function mergeOptions(base: ServerOptions, over: ServerOptions): ServerOptions {
  for (const [name, value] of Object.entries(over)) {
    if (value === undefined) continue;
    if (name === 'limits') {
      const limits: Partial<Limits> = { ...base.limits };
      for (const [limit, number] of Object.entries(value as Partial<Limits>)) if (number !== undefined) limits[limit as keyof Limits] = number;
      base.limits = limits;
    }
    else (base as Record<string, unknown>)[name] = value;
  }
  return base;
}

function checkNumber(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be a whole number of at least ${min}; got ${String(value)}.`);
  }
  return value;
}

/**
 * Fill in defaults and check everything, including settings that depend on each
 * other (auth needs keys). Throws ConfigError with a message that says how to fix it.
 */
export function resolveConfig(options: ServerOptions = {}): ServerConfig {
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    maxMemory: 0,
    logFormat: 'json',
    dashboard: false,
    apiKeys: [],
    corsOrigins: [],
    allowedHosts: [],
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
    limits: { ...DEFAULT_LIMITS },
  };
  if (options.maxMemory === undefined) config.maxMemory = derivedMaxMemory();
  for (const [name, value] of Object.entries(options.limits ?? {})) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_LIMITS)) throw new ConfigError(`Unknown limit "${name}". Known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`);
    config.limits[name as keyof Limits] = checkNumber(value, `limits.${name}`, 1);
  }
  const responseProblem = settleResponseBudget(config.limits, options.limits?.maxResponseBytes !== undefined);
  if (responseProblem !== null) throw new ConfigError(responseProblem);
  checkNumber(config.port, 'port', 0);
  if (config.port > 65535) throw new ConfigError(`port must be from 0 to 65535; got ${config.port}.`);
  checkNumber(config.limit, 'limit', 1);
  checkNumber(config.maxMemory, 'maxMemory', 0);
  checkNumber(config.maxBodyBytes, 'maxBodyBytes', 1);
  checkNumber(config.shutdownTimeoutMs, 'shutdownTimeoutMs', 0);
  checkNumber(config.snapshotIntervalMs, 'snapshotIntervalMs', 0);
  checkNumber(config.headersTimeoutMs, 'headersTimeoutMs', 1);
  checkNumber(config.requestTimeoutMs, 'requestTimeoutMs', 1);
  checkNumber(config.maxConnections, 'maxConnections', 1);
  checkNumber(config.maxConnectionsPerIp, 'maxConnectionsPerIp', 0);
  checkNumber(config.eventsHeartbeatMs, 'eventsHeartbeatMs', 1);
  checkNumber(config.maxTrackedKeys, 'maxTrackedKeys', 1);
  if (config.requestTimeoutMs < config.headersTimeoutMs) {
    throw new ConfigError(
      `The request timeout (${config.requestTimeoutMs} ms, LIX_REQUEST_TIMEOUT_MS / --request-timeout) covers the headers too, so it must be at least the headers timeout (${config.headersTimeoutMs} ms, LIX_HEADERS_TIMEOUT_MS / --headers-timeout).`,
    );
  }
  config.fsync = parseFsync(String(config.fsync), 'fsync');
  if (config.dataDir !== undefined && (typeof config.dataDir !== 'string' || config.dataDir.length === 0)) {
    throw new ConfigError(`dataDir must name a directory, e.g. ./data; got ${String(config.dataDir)}.`);
  }
  if (typeof config.host !== 'string' || config.host.length === 0) throw new ConfigError(`host must be a host name or address such as localhost or 0.0.0.0; got ${String(config.host)}.`);
  config.store = parseStore(String(config.store), 'store');
  if (config.dataDir !== undefined && config.store !== 'memory://') {
    throw new ConfigError(
      `--data-dir (LIX_DATA_DIR) makes the memory store durable; with ${redactUrl(config.store)} the data lives in Redis, which persists it itself (appendonly yes). Remove one of the two.`,
    );
  }
  config.logLevel = parseLogLevel(String(config.logLevel), 'logLevel');
  config.logFormat = options.logFormat === undefined ? (process.stdout.isTTY ? 'pretty' : 'json') : parseLogFormat(String(options.logFormat), 'logFormat');
  config.dashboard = options.dashboard ?? isLoopbackHost(config.host);
  if (typeof config.dashboard !== 'boolean') throw new ConfigError(`dashboard must be true or false; got ${String(config.dashboard)}.`);
  if (!Array.isArray(config.apiKeys) || config.apiKeys.some((key) => typeof key !== 'string' || key.length === 0)) {
    throw new ConfigError('apiKeys must be a list of non-empty strings.');
  }
  // Keys given turn auth on; only an explicit false can differ, and that is refused (below).
  config.authEnabled = options.authEnabled ?? config.apiKeys.length > 0;
  if (typeof config.authEnabled !== 'boolean') throw new ConfigError(`authEnabled must be true or false; got ${String(config.authEnabled)}.`);
  if (typeof config.protectedMode !== 'boolean') throw new ConfigError(`protectedMode must be true or false; got ${String(config.protectedMode)}.`);
  if (!Array.isArray(config.corsOrigins)) throw new ConfigError('corsOrigins must be a list of origins, or ["*"].');
  config.corsOrigins = parseOrigins(config.corsOrigins.join(','), 'corsOrigins');
  if (!Array.isArray(config.allowedHosts)) throw new ConfigError('allowedHosts must be a list of host names, or ["*"].');
  config.allowedHosts = parseHosts(config.allowedHosts.join(','), 'allowedHosts');
  if (!config.authEnabled && config.apiKeys.length > 0) {
    throw new ConfigError(
      'API keys are set (LIX_API_KEYS) but auth is turned off (LIX_AUTH_ENABLED=false), so the keys would protect nothing. ' +
        'Remove LIX_AUTH_ENABLED=false (keys turn auth on by themselves), or remove LIX_API_KEYS to run without auth.',
    );
  }
  if (config.authEnabled && config.apiKeys.length === 0) {
    throw new ConfigError(
      'Auth is enabled (LIX_AUTH_ENABLED=true) but no API keys are set. Set LIX_API_KEYS to one or more comma-separated keys ' +
        '(e.g. LIX_API_KEYS=$(openssl rand -hex 32)), or set LIX_AUTH_ENABLED=false.',
    );
  }
  if (!config.authEnabled && config.protectedMode && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      `Protected mode: refusing to listen on ${config.host} without API keys. Anyone who can reach this port could read every ` +
        'cached value and every session, and write a forged session that logs them in as any user. Either turn auth on with ' +
        'LIX_API_KEYS=<key>[,<key>] (e.g. LIX_API_KEYS=$(openssl rand -hex 32)), or, if only trusted clients can reach the port ' +
        '(a private network), opt out with LIX_PROTECTED_MODE=false (--protected-mode=false). To serve this machine only, use HOST=localhost.',
    );
  }
  return config;
}
