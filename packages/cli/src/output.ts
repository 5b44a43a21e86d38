import Table from 'cli-table3';

/** How results are printed: `table` for people, `json` for scripts. */
export type OutputFormat = 'json' | 'table';

/** The default format: a table on a terminal, JSON when stdout is a pipe or a file (so scripts get JSON). */
export function defaultFormat(stream: NodeJS.WriteStream = process.stdout): OutputFormat {
  return stream.isTTY ? 'table' : 'json';
}

/** Write one line (a newline is added) to stdout. */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Print `data` as JSON: indented on a terminal, one line otherwise (for jq and line-based tools). */
export function printJson(data: unknown): void {
  printLine(JSON.stringify(data, null, process.stdout.isTTY ? 2 : undefined));
}

/** A cell of {@link table}. */
export type Cell = string | number;

/** A plain table (no colours, so it reads the same in a terminal, a file and a test), as text. */
export function table(rows: Cell[][], head?: string[]): string {
  const out = new Table({ head: head ?? [], style: { head: [], border: [], compact: true } });
  out.push(...rows);
  return out.toString();
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** A count with thousands separators: 500,000. */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** A byte size in binary units: 1.5 KiB, 512 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${unit === 0 ? integer.format(size) : decimal.format(size)} ${units[unit]}`;
}

/** Remaining TTL for people: `59.998 s`, or `no expiry`. */
export function formatTtl(ttl: number | null): string {
  return ttl === null ? 'no expiry' : `${Math.round(ttl * 1000) / 1000} s`;
}

/** A fraction as a percentage, `66.7%`; `-` when there is nothing to divide. */
export function formatPercent(fraction: number | null): string {
  return fraction === null ? '-' : `${decimal.format(fraction * 100)}%`;
}

/** A value as one line of JSON, cut to `max` characters with an ellipsis (tables show long values shortened). */
export function shortJson(value: unknown, max = 60): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
