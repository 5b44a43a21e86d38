import { Option, type Command } from 'commander';
import { withClient } from '../client';
import { CliError, EXIT } from '../errors';
import { formatTtl, printJson, printLine } from '../output';
import { collect, parseAmount, parseSeconds, parseValue } from '../parse';

// The commands on single keys: get, set, del, ttl, incr.

/** The "not found" failure of get and ttl: exit code 3, so scripts can tell it from an error. */
function notFound(key: string): CliError {
  return new CliError(`not found: no key "${key}" (it never existed, expired, was evicted or deleted).`, EXIT.notFound);
}

/** Register get, set, del, ttl and incr on `program`. */
export function registerKeyCommands(program: Command): void {
  program
    .command('get')
    .description('print the value of a key (table: the value as indented JSON; json: {key, value, ttl})')
    .argument('<key>', 'the key')
    .action(async (key: string, _options: object, command: Command) => {
      await withClient(command, async (cache, { output }) => {
        const entry = await cache.getEntry(key);
        if (entry === null) throw notFound(key);
        if (output === 'json') printJson({ key, value: entry.value, ttl: entry.ttl });
        else printLine(JSON.stringify(entry.value, null, 2));
      });
    });

  program
    .command('set')
    .description('store a value: JSON when it parses as JSON (42, true, {"a":1}), else the text as a string')
    .argument('<key>', 'the key')
    .argument('<value>', 'the value, e.g. \'{"name":"Ada"}\', 42 or hello')
    .option('--ttl <seconds>', 'expire after this many seconds (0: never)', parseSeconds)
    .option('--tag <tag>', 'a tag for scan --tag; repeat for more', collect)
    .option('--string', 'store the value as a string even if it parses as JSON (e.g. 007)')
    .addOption(new Option('--nx', 'write only if the key is absent (exit 3 if it was present)').conflicts('xx'))
    .option('--xx', 'write only if the key is present (exit 3 if it was absent)')
    .action(async (key: string, text: string, options: { ttl?: number; tag?: string[]; string?: boolean; nx?: boolean; xx?: boolean }, command: Command) => {
      await withClient(command, async (cache, { output }) => {
        const written = await cache.set(key, parseValue(text, options.string), { ttl: options.ttl, tags: options.tag, nx: options.nx, xx: options.xx });
        if (output === 'json') printJson({ key, written });
        else if (written) printLine('OK');
        if (!written) {
          throw new CliError(`not written: "${key}" ${options.nx ? 'already exists (--nx)' : 'does not exist (--xx)'}.`, EXIT.notFound);
        }
      });
    });

  program
    .command('del')
    .description('delete keys (a key that is not there is reported, not an error)')
    .argument('<key...>', 'the keys')
    .action(async (keys: string[], _options: object, command: Command) => {
      await withClient(command, async (cache, { output }) => {
        // Issued together, so they leave as one batch.
        const results = await Promise.all(keys.map((key) => cache.delete(key)));
        const deleted = keys.filter((_, i) => results[i]);
        const missing = keys.filter((_, i) => !results[i]);
        if (output === 'json') {
          printJson({ deleted, missing });
          return;
        }
        printLine(`deleted ${deleted.length} of ${keys.length} ${keys.length === 1 ? 'key' : 'keys'}`);
        if (missing.length > 0) printLine(`not found: ${missing.join(', ')}`);
      });
    });

  program
    .command('ttl')
    .description('print the seconds a key has left, or "no expiry" (it reads the key: counts as a hit)')
    .argument('<key>', 'the key')
    .action(async (key: string, _options: object, command: Command) => {
      await withClient(command, async (cache, { output }) => {
        const entry = await cache.getEntry(key);
        if (entry === null) throw notFound(key);
        if (output === 'json') printJson({ key, ttl: entry.ttl });
        else printLine(formatTtl(entry.ttl));
      });
    });

  program
    .command('incr')
    .description('add to a number (a missing key starts at 0) and print the result; a negative amount subtracts')
    .argument('<key>', 'the key')
    .argument('[amount]', 'what to add (default 1), e.g. 5, -1, 0.5', parseAmount, 1)
    .option('--ttl <seconds>', 'expiry in seconds, set only when this call creates the key', parseSeconds)
    .action(async (key: string, amount: number, options: { ttl?: number }, command: Command) => {
      await withClient(command, async (cache, { output }) => {
        const value = await cache.incr(key, amount, { ttl: options.ttl });
        if (output === 'json') printJson({ key, value });
        else printLine(String(value));
      });
    });
}
