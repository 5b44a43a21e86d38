import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * LOG_FORMAT: `json` (one JSON object a line, for log collectors) or `pretty` (readable,
 * coloured lines). Unset: pretty when stdout is a terminal, else JSON.
 */
export function logFormatFromEnv(): 'json' | 'pretty' {
  const raw = process.env.LOG_FORMAT;
  if (raw === undefined || raw === '') return process.stdout.isTTY ? 'pretty' : 'json';
  if (raw !== 'json' && raw !== 'pretty') throw new Error(`LOG_FORMAT must be json or pretty; got "${raw}".`);
  return raw;
}

/** The app's logger, on stdout. Errors go under `err`: pino's serializer writes the type, message and stack with the `cause` chain. */
export function createLogger(format = logFormatFromEnv()): Logger {
  const options = { name: 'express-sessions-example' };
  if (format === 'json') return pino(options);
  // In-process and synchronous (no worker thread), so the last lines before an exit are written.
  return pino(options, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }));
}
