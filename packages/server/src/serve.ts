import type { FastifyInstance } from 'fastify';
import type { PersistenceLogger } from 'lix-cache-core/memory';
import { redactUrl } from 'lix-cache-core';
import type { ServerConfig, ServerOptions } from './config';
import { resolveConfig } from './config';
import { buildApp } from './app';
import { openEngine } from './engine';
import { ESTIMATE_FACTOR, exceedsHeap, heapLimit } from './heap-budget';

/** A server started by `serve`. */
export interface RunningServer {
  app: FastifyInstance;
  config: ServerConfig;
  /** Where it listens, e.g. `http://localhost:4000`. */
  url: string;
  /** Stop accepting, finish requests in flight, close the engine. */
  close(): Promise<void>;
}

/** Open the configured engine, build the app and listen: what `lix-cache-server` does, for programmatic use. */
export async function serve(options: ServerConfig | ServerOptions = {}): Promise<RunningServer> {
  const config = resolveConfig(options);
  // The engine loads its data before the app (and its logger) exists: hold its messages until then.
  const held: Parameters<PersistenceLogger>[] = [];
  let log: PersistenceLogger = (...line) => held.push(line);
  const engine = await openEngine(config, (...line) => log(...line));
  const app = await buildApp(engine, config);
  log = (level, message, details) => app.log[level](details, message);
  for (const line of held.splice(0)) log(...line);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`Port ${config.port} on ${config.host} is already in use. Stop the other process, or pick another port with --port or PORT.`);
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${displayHost(config.host)}:${port}`;
  const memoryStore = config.store === 'memory://';
  // Said at start-up so an operator sees the budget in force, and where it came from.
  const maxMemorySource = !memoryStore ? undefined : options.maxMemory === undefined ? 'derived from the heap limit' : 'set';
  if (memoryStore && options.maxMemory !== undefined && config.maxMemory > 0 && exceedsHeap(config.maxMemory)) {
    const limitMiB = Math.round(heapLimit() / 2 ** 20);
    const neededMiB = Math.ceil((config.maxMemory * ESTIMATE_FACTOR) / 2 ** 20) + 64;
    app.log.warn(
      { maxMemory: config.maxMemory, heapLimit: heapLimit() },
      `--max-memory (LIX_MAX_MEMORY) of ${config.maxMemory} bytes is more than this process's heap (limit ${limitMiB} MiB) can hold, so a full cache would crash the process instead of evicting: start node with NODE_OPTIONS=--max-old-space-size=${neededMiB} or more, or lower --max-memory (leave it unset to derive it from the heap)`,
    );
  }
  app.log.info(
    {
      url,
      store: redactUrl(config.store),
      limit: config.limit,
      maxMemory: memoryStore ? config.maxMemory : undefined,
      maxMemorySource,
      heapLimit: memoryStore ? heapLimit() : undefined,
      dataDir: config.dataDir,
      fsync: config.dataDir ? config.fsync : undefined,
      auth: config.authEnabled,
      corsOrigins: config.corsOrigins,
      allowedHosts: config.authEnabled ? undefined : config.allowedHosts,
      protectedMode: config.protectedMode,
    },
    'Lix Cache started',
  );
  // Each opt-out of a secure default is said once at start, so it is never on by accident unnoticed.
  if (!config.authEnabled && config.corsOrigins.includes('*')) {
    app.log.warn('LIX_CORS_ORIGINS=* with auth off: any web page a user opens can read and write this cache, sessions included. Set LIX_API_KEYS, or list origins.');
  }
  if (!config.authEnabled && !config.protectedMode) {
    app.log.warn(`Protected mode is off (LIX_PROTECTED_MODE=false) and auth is off: anyone who can reach ${url} can read every session and forge one. Set LIX_API_KEYS unless only trusted clients can reach it.`);
  }
  return { app, config, url, close: () => app.close() };
}

/** A host to put in a URL people can open: wildcard addresses become localhost, IPv6 gets brackets. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
