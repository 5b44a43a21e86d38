import { Option, type Command } from 'commander';
import { redactUrl } from 'lix-cache-sdk';
import { UsageError } from './errors';
import { defaultFormat, type OutputFormat } from './output';
import { wholeNumber } from './parse';

/** The server a `lix-cache` command talks to when neither --url nor LIX_CACHE_URL says otherwise. */
export const DEFAULT_URL = 'http://localhost:4000';

/** The SDK's default request timeout, in ms. */
export const DEFAULT_TIMEOUT = 5000;

/** What every command needs from the global options, checked. */
export interface Settings {
  url: string;
  /** Never printed. */
  apiKey: string | undefined;
  output: OutputFormat;
  /** Milliseconds to wait for each answer. */
  timeout: number;
}

/** Add the options every command takes (before or after the command's name). */
export function addGlobalOptions(program: Command): void {
  program
    .addOption(new Option('--url <url>', 'the lix-cache-server to talk to').env('LIX_CACHE_URL').default(DEFAULT_URL))
    .addOption(
      new Option('--api-key <key>', 'API key (one of the server\'s LIX_API_KEYS); prefer the environment variable: a key on the command line is visible to other users in ps').env(
        'LIX_CACHE_API_KEY',
      ),
    )
    .addOption(new Option('-o, --output <format>', 'json or table (default: table on a terminal, JSON when piped)').choices(['json', 'table']))
    .option('--json', 'the same as --output json')
    .option('--timeout <ms>', 'longest wait for each answer from the server', wholeNumber(1, '2000'), DEFAULT_TIMEOUT);
}

interface GlobalFlags {
  url?: string;
  apiKey?: string;
  output?: OutputFormat;
  json?: boolean;
  timeout: number;
}

/** The checked global options of the command being run. Throws a {@link UsageError} for a bad URL. */
export function settingsOf(command: Command): Settings {
  const flags = command.optsWithGlobals<GlobalFlags>();
  if (flags.json && flags.output === 'table') throw new UsageError('--json and --output table contradict each other: give one of them.');
  // An empty variable counts as unset, as in the SDK.
  const url = flags.url || DEFAULT_URL;
  const from = command.getOptionValueSourceWithGlobals('url') === 'env' ? 'LIX_CACHE_URL' : '--url';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${from} "${redactUrl(url)}" is not a URL: give the server's address, e.g. http://localhost:4000.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${from} "${redactUrl(url)}" is not an http:// or https:// URL: give the address of a lix-cache-server, e.g. http://localhost:4000.`);
  }
  return {
    url,
    apiKey: flags.apiKey || undefined,
    output: flags.json ? 'json' : (flags.output ?? defaultFormat()),
    timeout: flags.timeout,
  };
}
