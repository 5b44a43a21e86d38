import { getHeapStatistics } from 'node:v8';

/**
 * How far the memory store's estimate may fall short of the live heap it stands for: the core README
 * states it (each workload measured 0.7x-1.1x of its estimate); the budget keeps room for it.
 */
export const ESTIMATE_FACTOR = 1.25;
/** Heap kept for the server itself (fastify, pino, code) and the requests in flight, before the cache gets a share. */
const RESERVED_BYTES = 64 * 1024 * 1024;
/** The cache's share of the rest: the other half is V8's room to collect garbage and for bodies being parsed. */
const CACHE_SHARE = 0.5;
/**
 * V8's young generation, counted in heap_size_limit but never holding the cache's long-lived
 * entries: 48 MiB on Node 22, 192 MiB on Node 24 (three 64 MiB semi-spaces), whatever the
 * --max-old-space-size. The larger is assumed, so the budget fits the old space on every supported Node.
 */
const YOUNG_GENERATION_BYTES = 192 * 1024 * 1024;
/** Smallest derived budget, so a tiny heap still caches something. */
const MIN_BUDGET = 8 * 1024 * 1024;

/** This process's heap limit in bytes (set by --max-old-space-size, else by V8 from the machine's memory). */
export function heapLimit(): number {
  return getHeapStatistics().heap_size_limit;
}

/** The part of a heap limit that can hold cached entries: the old space (about --max-old-space-size). */
function oldSpace(limit: number): number {
  return limit - YOUNG_GENERATION_BYTES;
}

/**
 * The default memory budget: half of the old space beyond 64 MiB, so a flood of large values
 * is evicted long before V8 runs out of heap. Raise it with a larger heap
 * (NODE_OPTIONS=--max-old-space-size=<MiB>) or set --max-memory.
 */
export function derivedMaxMemory(limit = heapLimit()): number {
  return Math.max(MIN_BUDGET, Math.floor((oldSpace(limit) - RESERVED_BYTES) * CACHE_SHARE));
}

/** Whether an explicit budget is more than this heap's old space can hold (the estimate's factor plus the reserve). */
export function exceedsHeap(maxMemory: number, limit = heapLimit()): boolean {
  return maxMemory * ESTIMATE_FACTOR + RESERVED_BYTES > oldSpace(limit);
}
