import type { Command } from 'commander';
import type { ScanKeysPage, ScanPage } from 'lix-cache-sdk';
import { withClient } from '../client';
import { formatTtl, printJson, printLine, shortJson, table } from '../output';
import { wholeNumber } from '../parse';

/** Keys per page when --limit is not given: a screenful, not the whole cache. */
export const DEFAULT_SCAN_LIMIT = 100;

interface ScanFlags {
  tag?: string;
  limit: number;
  cursor?: string;
  keysOnly?: boolean;
}

/** Register scan on `program`. */
export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('list keys (with values and TTLs), one page at a time; prints the cursor of the next page')
    .argument('[prefix]', 'only keys that start with this')
    .option('--tag <tag>', 'only keys that carry this tag')
    .option('--limit <n>', 'most keys in the page', wholeNumber(1, '20'), DEFAULT_SCAN_LIMIT)
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .option('--keys-only', 'keys without values and TTLs')
    .addHelpText(
      'after',
      `
Tables shorten long values; --output json prints them whole: {items: [{key, value, ttl}], count, cursor}
(--keys-only: {keys, count, cursor}). cursor is null on the last page.

Example, page by page:
  lix-cache scan user: --limit 50
  lix-cache scan user: --limit 50 --cursor <the cursor printed above>`,
    )
    .action(async (prefix: string | undefined, options: ScanFlags, command: Command) => {
      await withClient(command, async (cache, { output }) => {
        const query = { tag: options.tag, limit: options.limit, cursor: options.cursor };
        const page: ScanPage | ScanKeysPage = options.keysOnly ? await cache.scan(prefix, { ...query, keysOnly: true }) : await cache.scan(prefix, query);
        if (output === 'json') {
          printJson(page);
          return;
        }
        if ('keys' in page) {
          if (page.keys.length > 0) printLine(table(page.keys.map((key) => [key]), ['key']));
        } else if (page.items.length > 0) {
          printLine(table(page.items.map((item) => [item.key, formatTtl(item.ttl), shortJson(item.value)]), ['key', 'ttl', 'value']));
        }
        const found = page.count === 0 ? 'no keys' : `${page.count} ${page.count === 1 ? 'key' : 'keys'}`;
        printLine(page.cursor === null ? `${found}; end of scan` : `${found}; next page: --cursor ${page.cursor}`);
      });
    });
}
