import { InvalidArgumentError } from 'commander';

// Option and argument parsers for commander: a bad value is refused before anything is sent,
// and commander reports it naming the option, with exit code 2.

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** `text` as a finite decimal number, or undefined (no hex, no empty string, no Infinity). */
function toNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!NUMBER.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/** A number of seconds ≥ 0 (`--ttl`); 0 means no expiry. */
export function parseSeconds(text: string): number {
  const value = toNumber(text);
  if (value === undefined || value < 0) throw new InvalidArgumentError('Give a number of seconds, 0 or more (e.g. 60; 0 = no expiry).');
  return value;
}

/** Any finite number, negative or fractional too (the `incr` amount). */
export function parseAmount(text: string): number {
  const value = toNumber(text);
  if (value === undefined) throw new InvalidArgumentError('Give a number to add, e.g. 5, -1 or 0.5.');
  return value;
}

/** A whole number ≥ `min` (`--limit`, `--interval`, `--timeout`). */
export function wholeNumber(min: number, example: string): (text: string) => number {
  return (text) => {
    const value = toNumber(text);
    if (value === undefined || !Number.isInteger(value) || value < min) throw new InvalidArgumentError(`Give a whole number, ${min} or more (e.g. ${example}).`);
    return value;
  };
}

/** Commander's way to take an option more than once (`--tag a --tag b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A value to store: JSON when it parses as JSON (`42`, `true`, `{"a":1}`, `"quoted"`), else the text itself. */
export function parseValue(text: string, asString = false): unknown {
  if (asString) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
