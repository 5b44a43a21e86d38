import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

/**
 * Real redis-server processes for tests, on free loopback ports, each in its
 * own temp dir. Every process started here dies with the test process (even
 * when that one is SIGKILLed), and the temp dirs are removed then.
 */

const run = promisify(execFile);

/** A standalone redis-server started by `startRedis`. */
export interface RedisProcess {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  host: string;
  port: number;
  /** Its data dir (RDB/AOF files, log). */
  dir: string;
  /** Graceful shutdown (SIGTERM): Redis persists what its config says, then exits. Its dir stays for `restart()`. */
  stop(): Promise<void>;
  /** Hard kill (SIGKILL): nothing is flushed. */
  kill(): Promise<void>;
  /** Start again on the same port and dir (stops it first if running). */
  restart(): Promise<void>;
  /** Whether the process is running. */
  readonly running: boolean;
}

export interface StartRedisOptions {
  /** Keep data across stop/restart: AOF with fsync on every write. Default false (`--save '' --appendonly no`). */
  persistence?: boolean;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
}

export interface RedisClusterNode {
  host: string;
  port: number;
  url: string;
}

/** A cluster of masters (no replicas) started by `startRedisCluster`. */
export interface RedisCluster {
  /** `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,…`: what RedisEngine and `--store` take. */
  url: string;
  nodes: RedisClusterNode[];
  /** The underlying processes, for fault tests. */
  processes: RedisProcess[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
let root: string | undefined;

/**
 * This test process's temp root, created on first use. A janitor shell removes it
 * once our stdin pipe to it closes, i.e. when this process ends in any way
 * (vitest workers do not reliably run 'exit' handlers).
 */
function tempRoot(): string {
  if (root) return root;
  root = mkdtempSync(join(tmpdir(), 'lix-redis-'));
  const janitor = spawn('sh', ['-c', 'read _; sleep 1; rm -rf "$1"', 'redis-janitor', root], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  janitor.unref();
  (janitor.stdin as unknown as { unref(): void }).unref();
  return root;
}

/** Answers PING with PONG: the server accepts commands (not merely the TCP port). */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A port whose cluster-bus port (port + 10000) is free too; ≤ 55000 so the bus port stays valid. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) return port;
  }
  throw new Error('No free port pair (port, port+10000) found between 20000 and 55000.');
}

/** One redis-server process that can be stopped and started again on its port and dir. */
class Node {
  private shell: ChildProcess | undefined;
  private pid: number | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = '';

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
  ) {}

  get running(): boolean {
    return this.shell !== undefined;
  }

  async start(): Promise<void> {
    if (this.shell) return;
    const args = ['--port', String(this.port), '--bind', HOST, '--dir', this.dir, '--logfile', 'redis.log', '--daemonize', 'no', ...this.args];
    // A shell watchdog kills redis-server once our stdin closes, so a test process that dies
    // abruptly (SIGKILL, crash) leaves no redis-server behind; node itself cannot do that.
    const script = 'exec 3<&0; redis-server "$@" & pid=$!; echo "$pid"; (read _ <&3; kill -9 "$pid" 2>/dev/null) & wait "$pid"';
    const shell = spawn('sh', ['-c', script, 'redis-watchdog', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.shell = shell;
    this.stderr = '';
    shell.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      shell.once('exit', () => {
        if (this.shell === shell) this.shell = undefined;
        this.pid = undefined;
        shell.stdin?.destroy();
        resolve();
      }),
    );
    this.pid = await new Promise<number>((resolve, reject) => {
      shell.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      shell.once('exit', () => reject(new Error('redis-server did not start')));
    });
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      if (!this.shell) throw new Error(`redis-server on port ${this.port} exited during start-up:\n${this.logTail()}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s:\n${this.logTail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    if (!this.shell || this.pid === undefined) return this.exited;
    process.kill(this.pid, 'SIGTERM');
    await this.exited;
  }

  async kill(): Promise<void> {
    if (!this.shell) return this.exited;
    this.shell.stdin?.end(); // the watchdog kills redis-server
    await this.exited;
  }

  logTail(): string {
    let log = '(no log)';
    try {
      log = readFileSync(join(this.dir, 'redis.log'), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      // redis-server never got as far as opening its log
    }
    return `${this.stderr}${log}`;
  }
}

function tempDir(name: string): string {
  return mkdtempSync(join(tempRoot(), `${name}-`));
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function handle(node: Node): RedisProcess {
  return {
    url: `redis://${HOST}:${node.port}`,
    host: HOST,
    port: node.port,
    dir: node.dir,
    get running() {
      return node.running;
    },
    stop: () => node.stop(),
    kill: () => node.kill(),
    restart: async () => {
      await node.stop();
      await node.start();
    },
  };
}

/** Is the start failure a port someone else grabbed between our check and the bind? Then retry. */
function portTaken(error: unknown): boolean {
  return /Address already in use|bind/i.test(String(error));
}

/** Start a standalone redis-server on a free loopback port; its dir is removed when the test process exits. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const persistence = options.persistence
    ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--save', '', '--appendonly', 'no'];
  for (let attempt = 1; ; attempt++) {
    const dir = tempDir('standalone');
    const node = new Node(await freePort(), dir, [...persistence, ...(options.args ?? [])]);
    try {
      await node.start();
      return handle(node);
    } catch (error) {
      removeDir(dir);
      if (attempt >= 5 || !portTaken(error)) throw error;
    }
  }
}

async function clusterInfo(port: number): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), 'cluster', 'info'], { timeout: 5000 });
  return stdout;
}

/**
 * Start `masters` redis-servers in cluster mode and join them with
 * `redis-cli --cluster create … --cluster-replicas 0`; resolves once every node
 * reports `cluster_state:ok` with all 16384 slots assigned. `persistence`: AOF
 * on every node, so a node stopped and restarted keeps its keys.
 */
export async function startRedisCluster({ masters = 3, persistence = false }: { masters?: number; persistence?: boolean } = {}): Promise<RedisCluster> {
  if (!Number.isInteger(masters) || masters < 3) throw new Error(`A Redis Cluster needs at least 3 masters; got ${masters}.`);
  const nodes: Node[] = [];
  const clusterDir = tempDir('cluster');
  const stopAll = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    removeDir(clusterDir);
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++) {
      for (let attempt = 1; ; attempt++) {
        const port = await freeClusterPort(taken);
        const dir = join(clusterDir, String(port));
        await run('mkdir', ['-p', dir]);
        const node = new Node(port, dir, [
          '--save', '',
          '--appendonly', persistence ? 'yes' : 'no',
          '--appendfsync', 'always',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', '2000',
        ]);
        try {
          await node.start();
          taken.add(port).add(port + 10000);
          nodes.push(node);
          break;
        } catch (error) {
          if (attempt >= 5 || !portTaken(error)) throw error;
        }
      }
    }
    const addresses = nodes.map((node) => `${HOST}:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      for (;;) {
        const info = await clusterInfo(node.port).catch(() => '');
        if (info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384')) break;
        if (Date.now() > deadline) throw new Error(`Cluster node ${node.port} not ready after 20 s:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    url: `redis-cluster://${nodes.map((node) => `${HOST}:${node.port}`).join(',')}`,
    nodes: nodes.map((node) => ({ host: HOST, port: node.port, url: `redis://${HOST}:${node.port}` })),
    processes: nodes.map((node) => handle(node)),
    stop: stopAll,
  };
}
