import { Command, CommanderError } from 'commander';
import { redactUrls } from 'lix-cache-core';
import { version } from '../package.json';
import { registerKeyCommands } from './commands/keys';
import { registerScan } from './commands/scan';
import { registerStats } from './commands/stats';
import { registerWatch } from './commands/watch';
import { CliError, EXIT, UsageError } from './errors';
import { addGlobalOptions } from './settings';

const HELP_HINT = (command: string) => `(run "${command} --help" for usage)`;

const program = new Command('lix-cache')
  .description('The command line for a Lix Cache server (lix-cache-server): read and write keys, scan, watch live stats.')
  .version(version, '-v, --version')
  // Usage errors throw instead of exiting, so they end with exit code 2 (see below).
  .exitOverride()
  // Commander quotes refused arguments, which may be URLs with credentials.
  .configureOutput({ outputError: (text, write) => write(`lix-cache: ${redactUrls(text.replace(/^error: /, ''))}`) })
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError(HELP_HINT('lix-cache'));
addGlobalOptions(program);
registerKeyCommands(program);
registerScan(program);
registerStats(program);
registerWatch(program);
// Each command's hint names the command itself (commands copy the program's settings when made).
for (const command of program.commands) command.showHelpAfterError(HELP_HINT(`lix-cache ${command.name()}`));

program.addHelpText(
  'after',
  `
Environment:
  LIX_CACHE_URL       the server's URL, like --url (default http://localhost:4000)
  LIX_CACHE_API_KEY   the API key, like --api-key; prefer it to --api-key, which other users can read in ps

Output: a table on a terminal, JSON when stdout is piped or redirected (--output or --json choose).

Exit codes:
  0  success
  1  error: server unreachable or failing, API key refused, request refused by the server
  2  usage error: unknown command or option, missing argument, bad option value or URL
  3  not found: get or ttl of a missing key; set --nx or --xx that did not write

Examples:
  lix-cache set user:1 '{"name":"Ada"}' --ttl 3600 --tag users
  lix-cache get user:1
  lix-cache scan user: --tag users --limit 20
  lix-cache incr visits
  LIX_CACHE_URL=https://cache.internal:4000 lix-cache stats --json
  lix-cache watch`,
);

/** Report a failure on stderr (no stack trace unless it is a bug) and choose the exit code. */
function fail(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help); --help and --version are not failures.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`lix-cache: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write(`${HELP_HINT('lix-cache')}\n`);
    return error.exitCode;
  }
  // Not an expected failure: a bug, reported with its stack so it can be fixed.
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`lix-cache: unexpected error (please report it): ${redactUrls(text)}\n`);
  return EXIT.error;
}

// The reader of stdout went away (`lix-cache watch | head -2`): nothing left to do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT.ok);
});

// exitCode rather than exit(): stdout is flushed before the process ends.
program.parseAsync(process.argv).then(
  () => {
    process.exitCode = EXIT.ok;
  },
  (error: unknown) => {
    process.exitCode = fail(error);
  },
);
