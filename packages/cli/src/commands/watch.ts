import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { redactUrl } from 'lix-cache-sdk';
import { openClient } from '../client';
import { CliError, EXIT, explain } from '../errors';
import { printLine, table } from '../output';
import { wholeNumber } from '../parse';
import { settingsOf, type Settings } from '../settings';
import { statsRows, summarize, type StatsSummary } from './stats';

/** One sample of `watch`: what `stats` prints, when, and the operations per second since the sample before. */
export interface WatchSample extends StatsSummary {
  /** When the sample was taken (ISO 8601). */
  time: string;
  /** Operations per second since the previous sample; null for the first one (and after an outage). */
  opsPerSec: number | null;
}

/** Register watch on `program`. */
export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('live stats with operations per second, until Ctrl-C: redrawn in place on a terminal, one JSON line per interval otherwise')
    .option('--interval <ms>', 'time between samples', wholeNumber(100, '1000'), 1000)
    .addHelpText(
      'after',
      `
On a terminal (table output) the view is redrawn in place; if the server stops answering, it
shows "server unreachable: …" and keeps trying every interval. Otherwise (stdout piped, or
--output json) it prints one JSON line per interval, {time, ...stats, opsPerSec}, and exits 1 at
the first failure. Ctrl-C (SIGINT) or SIGTERM stop it with exit code 0.`,
    )
    .action(async (options: { interval: number }, command: Command) => {
      await watch(command, options.interval);
    });
}

async function watch(command: Command, interval: number): Promise<void> {
  const settings = settingsOf(command);
  // The live view wants a terminal; anywhere else samples are appended, and a failure ends the run.
  // log-update is loaded only here: it is most of the start-up time of every other command.
  const view = settings.output === 'table' && process.stdout.isTTY ? (await import('log-update')).createLogUpdate(process.stdout) : undefined;
  const stop = () => {
    view?.done();
    process.exit(EXIT.ok);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const cache = openClient(settings);
  const target = { command: command.name(), url: settings.url, hasApiKey: settings.apiKey !== undefined, timeout: settings.timeout };
  let previous: { operations: number; at: number } | undefined;
  let last: WatchSample | undefined;
  try {
    for (;;) {
      const started = performance.now();
      try {
        const stats = summarize(await cache.stats());
        const at = performance.now();
        // None for the first sample; and a restarted server counts from 0 again: no rate across that.
        const opsPerSec =
          previous && stats.operations >= previous.operations ? Math.round(((stats.operations - previous.operations) / ((at - previous.at) / 1000)) * 100) / 100 : null;
        previous = { operations: stats.operations, at };
        last = { time: new Date().toISOString(), ...stats, opsPerSec };
        if (view) view(frame(settings, interval, last));
        else if (settings.output === 'json') printLine(JSON.stringify(last));
        else printLine(`${frame(settings, interval, last)}\n`);
      } catch (error) {
        const failure = explain(error, target);
        if (!view || !(failure instanceof CliError && failure.transient)) throw failure;
        previous = undefined;
        view(frame(settings, interval, last, `server unreachable: ${failure.message}\nretrying every ${interval} ms`));
      }
      await sleep(Math.max(0, interval - (performance.now() - started)));
    }
  } finally {
    await cache.close();
  }
}

/** The text of one view: a title, the stats table (the last good one while the server is away) and a status line. */
function frame(settings: Settings, interval: number, sample: WatchSample | undefined, problem?: string): string {
  const lines = [`lix-cache watch: ${redactUrl(settings.url)}, every ${interval} ms (Ctrl-C to stop)`];
  if (sample) {
    const rate = sample.opsPerSec === null ? '-' : String(sample.opsPerSec);
    lines.push(table([['ops/s', rate], ...statsRows(sample)]));
  }
  lines.push(problem ?? `updated ${new Date(sample!.time).toLocaleTimeString()}`);
  return lines.join('\n');
}
