import type { ChangeListener, Watch } from 'lix-cache-core';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { LixLogger } from '../config';
import type { HttpClient, HttpStream } from './http-client';

/** First wait before reconnecting; doubles per failed attempt up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
/** Heartbeats that may go missing before the channel counts as dead (a silent network drop sends no FIN). */
const MISSED_HEARTBEATS = 3;

export interface EventChannelOptions {
  client: HttpClient;
  /** `/cache/events` with its query. */
  path: string;
  headers: Record<string, string>;
  /** Milliseconds to wait for the server's answer and its `hello`. */
  timeoutMs: number;
  listener: ChangeListener;
  /** The channel's id once it is up (tracking mode sends it with every batch), undefined once it is down. */
  onClient(id: string | undefined): void;
  logger: LixLogger;
  origin: string;
}

/**
 * The client side of `GET /cache/events`: reads the server's Server-Sent Events,
 * tells the listener what changed, and reconnects with backoff. The listener is
 * live only between a `hello` and the first sign of trouble (the stream ends or
 * errs, a malformed event, no byte for three heartbeats), so a near cache is
 * flushed and bypassed whenever invalidations might have been missed.
 */
export class EventChannel implements Watch {
  private stream: HttpStream | undefined;
  private up = false;
  private closed = false;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Counts connection attempts: an attempt that is no longer the current one drops what it opens. */
  private generation = 0;
  /** When the server last sent a byte, and how long it may stay silent (a timestamp per chunk allocates nothing, unlike a new timer). */
  private lastSeen = 0;
  private silenceMs = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private warned = '';

  constructor(private readonly options: EventChannelOptions) {
    void this.connect();
  }

  get live(): boolean {
    return this.up;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    this.stream?.cancel();
    this.setLive(false);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const { client, path, headers, timeoutMs } = this.options;
    const generation = ++this.generation;
    this.arm(timeoutMs);
    let stream: HttpStream;
    try {
      stream = await client.stream(path, headers);
    } catch (error) {
      if (generation === this.generation) this.retry(`could not connect (${(error as { code?: string }).code ?? (error as Error).message})`);
      return;
    }
    if (generation !== this.generation) return stream.cancel();
    this.stream = stream;
    if (stream.status !== 200) {
      let body = '';
      await stream.read((text) => (body += text.slice(0, 300 - body.length))).catch(() => {});
      return this.retry(`the server answered ${stream.status}${body ? `: ${body}` : ''}`, stream.status === 401 || stream.status === 403 || stream.status === 404);
    }
    const parser = createParser({
      onEvent: (event) => this.onEvent(event),
      onError: () => this.retry('the server sent a malformed event'),
    });
    try {
      await stream.read((text) => {
        this.lastSeen = Date.now();
        parser.feed(text);
      });
      if (generation === this.generation) this.retry('the server ended the stream');
    } catch (error) {
      if (generation === this.generation) this.retry(`the stream failed (${(error as Error).message})`);
    }
  }

  private onEvent(event: EventSourceMessage): void {
    const listener = this.options.listener;
    try {
      switch (event.event) {
        case 'hello': {
          const hello = JSON.parse(event.data) as { client?: unknown; heartbeatMs?: unknown };
          if (typeof hello.client !== 'string' || typeof hello.heartbeatMs !== 'number' || !(hello.heartbeatMs > 0)) throw new Error('hello');
          this.arm(hello.heartbeatMs * MISSED_HEARTBEATS);
          this.attempts = 0;
          this.warned = '';
          this.options.onClient(hello.client);
          this.setLive(true);
          return;
        }
        case 'invalidate': {
          const { keys } = JSON.parse(event.data) as { keys?: unknown };
          if (!Array.isArray(keys)) throw new Error('invalidate');
          for (const key of keys) listener.changed(String(key));
          return;
        }
        case 'flush':
          listener.changedAll();
          return;
        default:
          return; // events of later servers
      }
    } catch {
      this.retry(`the server sent a malformed "${event.event}" event`);
    }
  }

  /** Drop the channel when the server stays silent for `ms` from now. */
  private arm(ms: number): void {
    this.lastSeen = Date.now();
    this.silenceMs = ms;
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastSeen > this.silenceMs) this.retry('no event or heartbeat arrived in time');
    }, Math.max(20, Math.min(1000, ms / 4)));
    this.watchdog.unref?.();
  }

  /** End the current attempt (its stream, if any) and schedule the next one. */
  private retry(reason: string, loud = false): void {
    this.generation++;
    this.stream?.cancel();
    this.stream = undefined;
    clearInterval(this.watchdog);
    this.setLive(false);
    if (this.closed) return;
    if (loud && this.warned !== reason) {
      this.warned = reason;
      this.options.logger.warn(
        `lix-cache-sdk: the near cache is off: ${this.options.origin}/cache/events refused the event channel (${reason}). ` +
          'Every read goes to the cache until it accepts it. Check the API key, and that the server is lix-cache-server 0.2 or later.',
      );
    }
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.attempts++);
    this.retryTimer = setTimeout(() => void this.connect(), delay * (0.5 + Math.random() / 2));
    this.retryTimer.unref?.();
  }

  private setLive(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    if (!up) this.options.onClient(undefined);
    this.options.listener.live(up);
  }
}
