import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { ChangeListener, Command, Engine, Limits, Watch } from 'lix-cache-core';
import { describe, LixError } from 'lix-cache-core';

/** Most prefixes one broadcast channel may subscribe to: each change is matched against all of them. */
export const MAX_EVENT_PREFIXES = 32;
/** Bytes a channel may have unsent before it is cut: its client then flushes and reconnects, rather than the server buffering without bound. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
/** Keys per `invalidate` event, so a mass change (tag invalidate, eviction sweep) streams as events of bounded size. */
const KEYS_PER_EVENT = 1000;
/** How long a new channel waits for the engine's change feed (Redis tracking being set up) before it is answered 503. */
const FEED_WAIT_MS = 3000;

const PING = ': ping\n\n';
const FLUSH = 'event: flush\ndata: {}\n\n';

/** One open `GET /cache/events` stream. */
interface EventClient {
  readonly id: string;
  readonly response: ServerResponse;
  /** Broadcast mode: the key prefixes it subscribed to. Tracking mode: undefined. */
  readonly prefixes: readonly string[] | undefined;
  /** Keys changed this event-loop turn, sent together by `flush`. */
  queued: string[];
  open: boolean;
}

export interface ChangeEventsOptions {
  engine: Engine;
  heartbeatMs: number;
  maxTrackedKeys: number;
  log: FastifyBaseLogger;
}

/** Counters for /metrics. */
export interface ChangeEventsStats {
  clients: number;
  trackedKeys: number;
  invalidationsSent: number;
  cut: number;
}

/**
 * The server side of `GET /cache/events` (Server-Sent Events): which client read
 * which key, and the invalidations that follow from the engine's change feed.
 *
 * Tracking mode works as Redis's CLIENT TRACKING does: a batch carrying a channel's
 * id (`x-lix-client`) registers the keys it reads *before* they are read, so a change
 * that lands after the read can never go unreported; the first change of a key is sent
 * to its readers and forgets them (they register again when they read it again).
 * Broadcast mode sends every change under the channel's prefixes.
 *
 * Whenever invalidations might be lost (the engine's feed goes down, a client falls
 * too far behind, the server shuts down) the streams are ended: a client treats a
 * closed channel as "flush everything" and reconnects.
 */
export class ChangeEvents implements ChangeListener {
  private readonly clients = new Map<string, EventClient>();
  private readonly broadcast = new Set<EventClient>();
  /** Key → the channels that read it since its last change. Insertion-ordered, so the oldest is dropped first when full. */
  private readonly tracked = new Map<string, Set<EventClient>>();
  private readonly pending = new Set<EventClient>();
  private readonly waiting = new Set<() => void>();
  private watch: Watch | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private flushScheduled = false;
  private closed = false;
  private counts = { invalidationsSent: 0, cut: 0 };

  constructor(private readonly options: ChangeEventsOptions) {}

  stats(): ChangeEventsStats {
    return { clients: this.clients.size, trackedKeys: this.tracked.size, ...this.counts };
  }

  /**
   * Whether channels can be opened: starts watching the engine on first use, then waits
   * (bounded) for its change feed to be up, e.g. while Redis tracking is being set up.
   */
  async ready(request: IncomingMessage): Promise<boolean> {
    // Watching lasts from the first channel to shutdown: a server no near cache uses pays nothing for it.
    this.watch ??= this.options.engine.watch(this);
    this.heartbeat ??= setInterval(() => this.ping(), this.options.heartbeatMs).unref();
    if (this.watch.live || this.closed) return !this.closed;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.waiting.add(wake);
    const timer = setTimeout(wake, FEED_WAIT_MS);
    request.socket.once('close', wake);
    await woken;
    clearTimeout(timer);
    this.waiting.delete(wake);
    request.socket.off('close', wake);
    return this.watch.live && !this.closed;
  }

  /** Start the event stream on a request's raw response (after `ready`): `hello`, then events and heartbeats. */
  open(response: ServerResponse, headers: OutgoingHttpHeaders, prefixes: readonly string[] | undefined): void {
    const client: EventClient = { id: randomUUID(), response, prefixes, queued: [], open: true };
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies such as nginx would otherwise hold events back in their buffers.
      'x-accel-buffering': 'no',
      // Never reused: ended, the socket closes too, so a shutdown does not wait on it as an idle keep-alive connection.
      connection: 'close',
    });
    response.write(`event: hello\ndata: ${JSON.stringify({ client: client.id, mode: prefixes ? 'broadcast' : 'tracking', heartbeatMs: this.options.heartbeatMs })}\n\n`);
    if (response.destroyed) return;
    this.clients.set(client.id, client);
    if (prefixes) this.broadcast.add(client);
    response.once('close', () => this.drop(client));
    // A client that hangs up half-closes the socket, which node:http keeps open while a response is under way.
    response.socket!.once('end', () => response.destroy());
  }

  /** Register the keys that `commands` read for the channel `clientId` names; call before running them. */
  track(clientId: string, commands: readonly Command[]): void {
    const client = this.clients.get(clientId);
    if (client === undefined || client.prefixes) return; // a channel that has ended (its client flushes) or broadcasts anyway
    for (const command of commands) {
      if (command.op !== 'get' && command.op !== 'exists') continue;
      let readers = this.tracked.get(command.key);
      if (readers === undefined) {
        if (this.tracked.size >= this.options.maxTrackedKeys) this.forgetOldest();
        this.tracked.set(command.key, (readers = new Set()));
      }
      readers.add(client);
    }
  }

  changed(key: string): void {
    const readers = this.tracked.get(key);
    if (readers !== undefined) {
      this.tracked.delete(key);
      for (const client of readers) this.queue(client, key);
    }
    for (const client of this.broadcast) {
      if (client.prefixes!.some((prefix) => key.startsWith(prefix))) this.queue(client, key);
    }
  }

  changedAll(): void {
    this.tracked.clear();
    for (const client of this.clients.values()) {
      client.queued.length = 0;
      this.write(client, FLUSH);
    }
  }

  live(up: boolean): void {
    if (up) {
      for (const wake of this.waiting) wake();
      return;
    }
    // Changes may go unreported from now on: every client must flush, which ending its channel tells it.
    this.options.log.warn({ clients: this.clients.size }, 'the change feed is down: ending every event channel (their near caches flush and reconnect)');
    this.endAll();
  }

  /** End every channel and stop watching (server shutdown). */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.endAll();
    this.watch?.close();
    for (const wake of this.waiting) wake();
  }

  private endAll(): void {
    for (const client of [...this.clients.values()]) {
      this.drop(client);
      client.response.end();
    }
    this.tracked.clear();
  }

  private drop(client: EventClient): void {
    if (!client.open) return;
    client.open = false;
    this.clients.delete(client.id);
    this.broadcast.delete(client);
    this.pending.delete(client);
    // Its entries in `tracked` go when their keys change or the table is full: finding them all now would cost a scan.
  }

  /** The table is full: tell the readers of its oldest key that it changed, so they stop trusting their copy. */
  private forgetOldest(): void {
    const [key, readers] = this.tracked.entries().next().value as [string, Set<EventClient>];
    this.tracked.delete(key);
    for (const client of readers) this.queue(client, key);
  }

  private queue(client: EventClient, key: string): void {
    if (!client.open) return;
    client.queued.push(key);
    this.pending.add(client);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One event per client per turn: a batch of writes costs one write per channel, not one per key.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const client of this.pending) {
      const keys = client.queued;
      client.queued = [];
      this.counts.invalidationsSent += keys.length;
      for (let from = 0; from < keys.length; from += KEYS_PER_EVENT) {
        this.write(client, `event: invalidate\ndata: {"keys":${JSON.stringify(keys.slice(from, from + KEYS_PER_EVENT))}}\n\n`);
      }
    }
    this.pending.clear();
  }

  private ping(): void {
    for (const client of this.clients.values()) this.write(client, PING);
  }

  private write(client: EventClient, text: string): void {
    if (!client.open) return;
    client.response.write(text);
    if (client.response.writableLength > MAX_UNSENT_BYTES) {
      // It cannot keep up: cut it rather than buffer without bound. Its near cache flushes and reconnects.
      this.counts.cut++;
      this.options.log.warn({ client: client.id, unsentBytes: client.response.writableLength }, 'event channel cut: its client reads too slowly');
      this.drop(client);
      client.response.destroy();
    }
  }
}

/**
 * The `prefix` query of `GET /cache/events`: undefined (tracking mode) when absent,
 * else up to MAX_EVENT_PREFIXES prefixes, each no longer than a key.
 */
export function parsePrefixes(query: unknown, limits: Limits): string[] | undefined {
  if (query === undefined) return undefined;
  const prefixes = Array.isArray(query) ? query : [query];
  if (prefixes.length > MAX_EVENT_PREFIXES) {
    throw new LixError('invalid_events', `At most ${MAX_EVENT_PREFIXES} "prefix" parameters are accepted; got ${prefixes.length}. Subscribe to shorter, common prefixes.`);
  }
  for (const prefix of prefixes) {
    if (typeof prefix !== 'string' || Buffer.byteLength(prefix) > limits.maxKeyBytes) {
      throw new LixError('invalid_events', `Each "prefix" must be a string of at most ${limits.maxKeyBytes} bytes (a key prefix such as "sess:"); got ${describe(prefix)}.`);
    }
  }
  return prefixes;
}
