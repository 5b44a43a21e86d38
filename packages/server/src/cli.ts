#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { version } from '../package.json';
import type { ServerOptions } from './config';
import {
  ConfigError,
  LOG_LEVELS,
  mergeOptions,
  optionsFromEnv,
  parseFsync,
  parseInteger,
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
  .option('-p, --port <number>', 'TCP port (env PORT; default 4000)', flag((text, name) => parseInteger(text, name, 0, 65535), '--port'))
  .option('--host <host>', 'interface to listen on; 0.0.0.0 for containers (env HOST; default localhost)')
  .option('--store <url>', 'memory://, redis://host:port or redis-cluster://h1:p1,h2:p2 (env LIX_STORE; default memory://)', flag(parseStore, '--store'))
  .option('--limit <items>', 'most keys held before LRU eviction (env LIX_CACHE_LIMIT; default 500000)', flag(parseInteger, '--limit'))
  .option('--max-memory <size>', 'memory budget, e.g. 512mb; 0 = none (env LIX_MAX_MEMORY; default: half the heap beyond 64mb)', flag(parseSize, '--max-memory'))
  .option('--log-level <level>', `${LOG_LEVELS.join('|')}; debug logs every request (env LOG_LEVEL; default info)`, flag(parseLogLevel, '--log-level'))
  .option('--cors-origins <origins>', 'comma-separated allowed origins, or * (env LIX_CORS_ORIGINS; default *)', flag(parseOrigins, '--cors-origins'))
  .option('--max-key-bytes <n>', 'longest key in bytes (env LIX_MAX_KEY_BYTES; default 1024)', flag(parseInteger, '--max-key-bytes'))
  .option('--max-value-bytes <size>', 'largest value as JSON (env LIX_MAX_VALUE_BYTES; default 1mb)', flag((text, name) => parseSize(text, name, 1), '--max-value-bytes'))
  .option('--max-body-bytes <size>', 'largest request body (env LIX_MAX_BODY_BYTES; default 8mb)', flag((text, name) => parseSize(text, name, 1), '--max-body-bytes'))
  .option('--max-batch <n>', 'most commands per batch (env LIX_MAX_BATCH; default 1000)', flag(parseInteger, '--max-batch'))
  .option('--max-tags <n>', 'most tags per key (env LIX_MAX_TAGS; default 32)', flag(parseInteger, '--max-tags'))
  .option('--data-dir <dir>', 'make the memory store durable: append-only log + snapshots here (env LIX_DATA_DIR; default none)')
  .option('--fsync <policy>', 'with --data-dir: always|everysec|no (env LIX_FSYNC; default everysec)', flag(parseFsync, '--fsync'))
  .option('--snapshot-interval <ms>', 'with --data-dir: snapshot this often when anything changed; 0 = by log size only (env LIX_SNAPSHOT_INTERVAL_MS; default 60000)', flag((text, name) => parseInteger(text, name, 0), '--snapshot-interval'))
  .option('--shutdown-timeout <ms>', 'longest graceful shutdown before exiting anyway (default 10000)', flag((text, name) => parseInteger(text, name, 0), '--shutdown-timeout'))
  .addHelpText(
    'after',
    `
Auth is set by environment only (command lines are visible to other users in ps):
  LIX_AUTH_ENABLED=true   require "Authorization: Bearer <key>" on every path but /health
  LIX_API_KEYS=k1,k2      the accepted keys

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
  corsOrigins?: string[];
  maxKeyBytes?: number;
  maxValueBytes?: number;
  maxBodyBytes?: number;
  maxBatch?: number;
  maxTags?: number;
  shutdownTimeout?: number;
  dataDir?: string;
  fsync?: ServerOptions['fsync'];
  snapshotInterval?: number;
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
      corsOrigins: flags.corsOrigins,
      maxBodyBytes: flags.maxBodyBytes,
      shutdownTimeoutMs: flags.shutdownTimeout,
      dataDir: flags.dataDir,
      fsync: flags.fsync,
      snapshotIntervalMs: flags.snapshotInterval,
      limits: { maxKeyBytes: flags.maxKeyBytes, maxValueBytes: flags.maxValueBytes, maxBatch: flags.maxBatch, maxTags: flags.maxTags },
    });
    // Loaded only now, so --help, --version and bad settings answer without loading the server.
    const { serve } = await import('./serve');
    running = await serve(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`lix-cache-server: ${error instanceof ConfigError ? '' : 'could not start: '}${message}\n`);
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
