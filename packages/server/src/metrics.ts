import type { Engine, Op } from 'lix-cache-core';
import type { ChangeEvents } from './change-events';
import { OPS } from 'lix-cache-core';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics for one server. The hot path only bumps plain numbers
 * (commands by op) or observes one histogram; engine figures are read once
 * per scrape, so serving requests never waits on metrics.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** Commands run, by op; plain numbers because a labelled prom-client inc hashes its labels. */
  private readonly opCounts: Record<string, number> = Object.fromEntries(OPS.map((op) => [op, 0]));
  private readonly operations = new Counter({ name: 'lix_operations_total', help: 'Cache commands run, by op', labelNames: ['op'], registers: [this.registry] });
  private readonly errors = new Counter({ name: 'lix_errors_total', help: 'Requests and batch commands that failed, by error code', labelNames: ['code'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'lix_http_request_duration_seconds',
    help: 'HTTP request latency (no labels: a labelled observe hashes its labels on every request)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly hits = new Counter({ name: 'lix_cache_hits_total', help: 'Reads that found their key', registers: [this.registry] });
  private readonly misses = new Counter({ name: 'lix_cache_misses_total', help: 'Reads that did not find their key', registers: [this.registry] });
  private readonly evictions = new Counter({ name: 'lix_cache_evictions_total', help: 'Keys evicted by the item or memory limit', registers: [this.registry] });
  private readonly expirations = new Counter({ name: 'lix_cache_expirations_total', help: 'Keys that expired', registers: [this.registry] });
  private readonly keys = new Gauge({ name: 'lix_cache_keys', help: 'Live keys', registers: [this.registry] });
  private readonly limit = new Gauge({ name: 'lix_cache_limit', help: 'Item limit', registers: [this.registry] });
  private readonly memory = new Gauge({ name: 'lix_cache_memory_bytes', help: 'Bytes held by the store', registers: [this.registry] });
  private readonly maxMemory = new Gauge({ name: 'lix_cache_max_memory_bytes', help: 'Memory budget in bytes (0: none)', registers: [this.registry] });
  /** Read at scrape time (not prom-client's default metrics, whose event-loop monitor runs all the time). */
  private readonly heapUsed = new Gauge({ name: 'lix_process_heap_used_bytes', help: 'V8 heap in use (live data plus garbage not yet collected)', registers: [this.registry] });
  private readonly heapLimit = new Gauge({ name: 'lix_process_heap_limit_bytes', help: 'V8 heap limit (--max-old-space-size plus the young generation)', registers: [this.registry] });
  private readonly up = new Gauge({ name: 'lix_store_up', help: '1 when the store answers, 0 when it does not', registers: [this.registry] });
  private readonly eventClients = new Gauge({ name: 'lix_event_clients', help: 'Open GET /cache/events channels (near caches)', registers: [this.registry] });
  private readonly trackedKeys = new Gauge({ name: 'lix_tracked_keys', help: 'Keys whose near-cache readers the server remembers', registers: [this.registry] });
  private readonly invalidations = new Counter({ name: 'lix_invalidations_sent_total', help: 'Key invalidations sent to near caches', registers: [this.registry] });
  private readonly eventsCut = new Counter({ name: 'lix_event_clients_cut_total', help: 'Event channels cut because their client read too slowly', registers: [this.registry] });

  /** The event channels, read at scrape time. */
  events: ChangeEvents | undefined;

  constructor(private readonly engine: Engine) {}

  countOp(op: Op): void {
    this.opCounts[op]!++;
  }

  /** Commands run since start, by op (a copy). */
  operationCounts(): Record<string, number> {
    return { ...this.opCounts };
  }

  /** Failures since start, by error code. */
  async errorCounts(): Promise<Record<string, number>> {
    const { values } = await this.errors.get();
    return Object.fromEntries(values.map(({ labels, value }) => [String(labels.code), value]));
  }

  countError(code: string): void {
    this.errors.inc({ code });
  }

  observe(seconds: number): void {
    this.latency.observe(seconds);
  }

  /** The Prometheus text exposition, engine figures read now. */
  async render(): Promise<string> {
    const heap = getHeapStatistics();
    this.heapUsed.set(heap.used_heap_size);
    this.heapLimit.set(heap.heap_size_limit);
    if (this.events) {
      const events = this.events.stats();
      this.eventClients.set(events.clients);
      this.trackedKeys.set(events.trackedKeys);
      setTotal(this.invalidations, events.invalidationsSent);
      setTotal(this.eventsCut, events.cut);
    }
    this.operations.reset();
    for (const op of OPS) this.operations.inc({ op }, this.opCounts[op]);
    try {
      const stats = await this.engine.stats();
      setTotal(this.hits, stats.hits);
      setTotal(this.misses, stats.misses);
      setTotal(this.evictions, stats.evictions);
      setTotal(this.expirations, stats.expirations);
      this.keys.set(stats.size);
      this.limit.set(stats.limit);
      this.memory.set(stats.memory);
      this.maxMemory.set(stats.maxMemory);
      this.up.set(1);
    } catch {
      this.up.set(0);
    }
    return this.registry.metrics();
  }
}

/** prom-client counters only go up; engine totals are absolute, so reset and add. */
function setTotal(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}
