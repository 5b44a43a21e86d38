import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const run = promisify(execFile);
const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  seconds: number;
  connections?: number;
}

export interface LoadResult extends Record<string, number> {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests completed in the whole run. */
  requests: number;
}

/**
 * Load a URL from a separate autocannon process (so the load generator never
 * shares an event loop with the server under test), keep-alive, 50 connections.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const args = [autocannonBin, '--json', '-c', String(options.connections ?? 50), '-d', String(options.seconds), '-m', options.method ?? 'GET'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  if (options.body !== undefined) args.push('-H', 'content-type=application/json', '-b', options.body);
  args.push(options.url);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(stdout);
  const non2xx = report.non2xx ?? 0;
  return {
    rps: report.requests.average,
    p50: report.latency.p50,
    p99: report.latency.p99,
    errors: (report.errors ?? 0) + (report.timeouts ?? 0) + non2xx,
    requests: report.requests.total,
  };
}
