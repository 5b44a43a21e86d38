import { Command, InvalidArgumentError } from 'commander';
import { redactUrls } from 'lix-cache-core';
import { version } from '../package.json';
import type { ServerOptions } from './config';
import {
  ConfigError,
  LOG_LEVELS,
  mergeOptions,
  optionsFromEnv,
  parseBoolean,
  parseFsync,
  parseHosts,
  parseInteger,
  parseLogFormat,
  parseLogLevel,
  parseOrigins,
  parseSize,
  parseStore,
} from './config';

/** Adapt a config parser to commander, so a bad flag value is reported with the flag's name. */
function flag<T>(parse: (text: string, setting: string) => T, name: string): (text: string) => T {
  return (text) => {
    try {
      return parse(text, name);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const program = new Command('lix-cache-server')
  .description('Lix Cache server: a JSON-over-HTTP cache, in memory or in front of Valkey/Redis.')
  .version(version, '-v, --version')
  // Commander quotes a refused argument, e.g. a --store URL with its password.
  .configureOutput({ outputError: (text, write) => write(redactUrls(text)) })
  .option('-p, --port <number>', 'TCP port (env PORT; default 4000)', flag((text, name) => parseInteger(text, name, 0, 65535), '--port'))
  .option('--host <host>', 'interface to listen on; 0.0.0.0 for containers (env HOST; default localhost)')
  .option('--store <url>', 'memory://, redis://host:port or redis-cluster://h1:p1,h2:p2 (env LIX_STORE; default memory://)', flag(parseStore, '--store'))
  .option('--limit <items>', 'most keys held before LRU eviction (env LIX_CACHE_LIMIT; default 500000)', flag(parseInteger, '--limit'))
  .option('--max-memory <size>', 'memory budget, e.g. 512mb; 0 = none (env LIX_MAX_MEMORY; default: half the heap beyond 64mb)', flag(parseSize, '--max-memory'))
  .option('--log-level <level>', `${LOG_LEVELS.join('|')}; debug logs every request (env LOG_LEVEL; default info)`, flag(parseLogLevel, '--log-level'))
  .option('--log-format <format>', 'json|pretty: coloured lines for a terminal (env LIX_LOG_FORMAT; default pretty when stdout is a terminal, else json)', flag(parseLogFormat, '--log-format'))
  .option('--dashboard <on|off>', 'serve the dashboard at /dashboard, behind the API keys (env LIX_DASHBOARD; default on for a loopback host, off otherwise)', flag(parseBoolean, '--dashboard'))
  .option('--cors-origins <origins>', 'web page origins allowed to call the server, comma-separated, or * for any page (env LIX_CORS_ORIGINS; default none)', flag(parseOrigins, '--cors-origins'))
  .option('--allowed-hosts <hosts>', 'with auth off: Host names answered besides loopback ones, or * (env LIX_ALLOWED_HOSTS; default none)', flag(parseHosts, '--allowed-hosts'))
  .option('--protected-mode <on|off>', 'refuse to listen on a non-loopback host without API keys; --protected-mode=false opts out (env LIX_PROTECTED_MODE; default true)', flag(parseBoolean, '--protected-mode'))
  .option('--headers-timeout <ms>', 'longest time to send request headers, then 408 (env LIX_HEADERS_TIMEOUT_MS; default 10000)', flag(parseInteger, '--headers-timeout'))
  .option('--request-timeout <ms>', 'longest time to send a whole request (env LIX_REQUEST_TIMEOUT_MS; default 30000)', flag(parseInteger, '--request-timeout'))
  .option('--max-connections <n>', 'most open connections (env LIX_MAX_CONNECTIONS; default 10000)', flag(parseInteger, '--max-connections'))
  .option('--max-connections-per-ip <n>', 'most open connections per client address; 0 = no cap (env LIX_MAX_CONNECTIONS_PER_IP; default 0)', flag((text, name) => parseInteger(text, name, 0), '--max-connections-per-ip'))
  .option('--max-key-bytes <n>', 'longest key in bytes (env LIX_MAX_KEY_BYTES; default 1024)', flag(parseInteger, '--max-key-bytes'))
  .option('--max-value-bytes <size>', 'largest value as JSON (env LIX_MAX_VALUE_BYTES; default 1mb)', flag((text, name) => parseSize(text, name, 1), '--max-value-bytes'))
  .option('--max-body-bytes <size>', 'largest request body (env LIX_MAX_BODY_BYTES; default 8mb)', flag((text, name) => parseSize(text, name, 1), '--max-body-bytes'))
  .option('--max-batch <n>', 'most commands per batch (env LIX_MAX_BATCH; default 1000)', flag(parseInteger, '--max-batch'))
  .option('--max-tags <n>', 'most tags per key (env LIX_MAX_TAGS; default 32)', flag(parseInteger, '--max-tags'))
  .option('--max-response-bytes <size>', 'largest response of a batch or scan page; reads past it answer response_too_large (env LIX_MAX_RESPONSE_BYTES; default 64mb)', flag((text, name) => parseSize(text, name, 1), '--max-response-bytes'))
  .option('--data-dir <dir>', 'make the memory store durable: append-only log + snapshots here (env LIX_DATA_DIR; default none)')
  .option('--fsync <policy>', 'with --data-dir: always|everysec|no (env LIX_FSYNC; default everysec)', flag(parseFsync, '--fsync'))
  .option('--snapshot-interval <ms>', 'with --data-dir: snapshot this often when anything changed; 0 = by log size only (env LIX_SNAPSHOT_INTERVAL_MS; default 60000)', flag((text, name) => parseInteger(text, name, 0), '--snapshot-interval'))
  .option('--events-heartbeat <ms>', 'heartbeat of GET /cache/events; near caches flush after three missed (env LIX_EVENTS_HEARTBEAT_MS; default 2000)', flag(parseInteger, '--events-heartbeat'))
  .option('--max-tracked-keys <n>', 'most keys tracked for near caches; past it the oldest is invalidated (env LIX_MAX_TRACKED_KEYS; default 1000000)', flag(parseInteger, '--max-tracked-keys'))
  .option('--shutdown-timeout <ms>', 'longest graceful shutdown before exiting anyway (default 10000)', flag((text, name) => parseInteger(text, name, 0), '--shutdown-timeout'))
  .addHelpText(
    'after',
    `
Auth is set by environment only (command lines are visible to other users in ps):
  LIX_API_KEYS=k1,k2      the accepted keys; setting any turns auth on: "Authorization: Bearer <key>"
                          is required on every path but /health
  LIX_AUTH_ENABLED=true   the same switch, explicit (false together with keys is refused)

Whoever can write the cache can forge sessions. Without keys the server listens on localhost only
(protected mode), answers only loopback Host names, and refuses requests from web pages unless
LIX_CORS_ORIGINS lists their origin.

Flags win over environment variables. Example:
  lix-cache-server --port 4000 --limit 100000 --max-memory 512mb
  lix-cache-server --data-dir ./data --fsync everysec     # sessions survive restarts`,
  )
  .action(main);

interface Flags {
  port?: number;
  host?: string;
  store?: string;
  limit?: number;
  maxMemory?: number;
  logLevel?: ServerOptions['logLevel'];
  logFormat?: ServerOptions['logFormat'];
  dashboard?: boolean;
  corsOrigins?: string[];
  allowedHosts?: string[];
  protectedMode?: boolean;
  headersTimeout?: number;
  requestTimeout?: number;
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  maxKeyBytes?: number;
  maxValueBytes?: number;
  maxBodyBytes?: number;
  maxBatch?: number;
  maxTags?: number;
  maxResponseBytes?: number;
  shutdownTimeout?: number;
  dataDir?: string;
  fsync?: ServerOptions['fsync'];
  snapshotInterval?: number;
  eventsHeartbeat?: number;
  maxTrackedKeys?: number;
}

async function main(flags: Flags): Promise<void> {
  let running;
  try {
    const options = mergeOptions(optionsFromEnv(process.env), {
      port: flags.port,
      host: flags.host,
      store: flags.store,
      limit: flags.limit,
      maxMemory: flags.maxMemory,
      logLevel: flags.logLevel,
      logFormat: flags.logFormat,
      dashboard: flags.dashboard,
      corsOrigins: flags.corsOrigins,
      allowedHosts: flags.allowedHosts,
      protectedMode: flags.protectedMode,
      headersTimeoutMs: flags.headersTimeout,
      requestTimeoutMs: flags.requestTimeout,
      maxConnections: flags.maxConnections,
      maxConnectionsPerIp: flags.maxConnectionsPerIp,
      maxBodyBytes: flags.maxBodyBytes,
      shutdownTimeoutMs: flags.shutdownTimeout,
      dataDir: flags.dataDir,
      fsync: flags.fsync,
      snapshotIntervalMs: flags.snapshotInterval,
      eventsHeartbeatMs: flags.eventsHeartbeat,
      maxTrackedKeys: flags.maxTrackedKeys,
      limits: { maxKeyBytes: flags.maxKeyBytes, maxValueBytes: flags.maxValueBytes, maxBatch: flags.maxBatch, maxTags: flags.maxTags, maxResponseBytes: flags.maxResponseBytes },
    });
    // Loaded only now, so --help, --version and bad settings answer without loading the server.
    const { serve } = await import('./serve');
    running = await serve(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`lix-cache-server: ${error instanceof ConfigError ? '' : 'could not start: '}${redactUrls(message)}\n`);
    process.exit(1);
  }
  const { app, config, url } = running;
  process.stdout.write(`Lix Cache listening on ${url}\n`);

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: exiting without waiting for requests in flight');
      process.exit(1);
    }
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    setTimeout(() => {
      app.log.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    running.close().then(
      () => {
        app.log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`lix-cache-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
