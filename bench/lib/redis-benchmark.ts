import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LoadResult } from './autocannon';

const run = promisify(execFile);

/**
 * redis-benchmark against a local redis-server: `pipeline` commands per round
 * trip (1 = one request at a time per connection), 50 connections.
 * Returns commands/s and latency (ms) like the autocannon runs.
 */
export async function redisBenchmark(port: number, test: 'get' | 'set', requests: number, pipeline = 1): Promise<LoadResult> {
  const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', '50', '-n', String(requests), '-P', String(pipeline), '-d', '40', '-r', '10000', '-t', test, '--csv'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const row = stdout.trim().split('\n').find((line) => !line.startsWith('"test"'));
  if (!row) throw new Error(`redis-benchmark printed no result:\n${stdout}`);
  const cells = row.split(',').map((cell) => Number(cell.replaceAll('"', '')));
  return { rps: cells[1]!, p50: cells[4]!, p99: cells[6]!, errors: 0, requests };
}
