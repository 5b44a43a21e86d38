import { LixAuthError, LixCacheError, LixConnectionError, LixNotFoundError, LixResponseTooLargeError, LixServerError, LixTimeoutError, redactUrl } from 'lix-cache-sdk';

/** The exit codes of `lix-cache`, as its --help and README list them. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Something failed: server unreachable or failing, API key refused, request refused by the server. */
  error: 1,
  /** The command line is wrong: unknown command or option, missing argument, bad option value or URL. */
  usage: 2,
  /** `get`/`ttl` of a key that is not there; `set --nx`/`--xx` that did not write. */
  notFound: 3,
} as const;

/**
 * An expected failure: printed as `lix-cache: <message>` (no stack trace), then the process
 * exits with `exitCode`. The message says what went wrong and what to do about it.
 */
export class CliError extends Error {
  override name = 'CliError';

  constructor(
    message: string,
    /** One of {@link EXIT}. */
    readonly exitCode: number = EXIT.error,
    /** Trying again later may succeed (the server is down, slow or failing), unlike a refused key or request. */
    readonly transient = false,
  ) {
    super(message);
  }
}

/** A wrong command line that commander itself cannot catch (e.g. a bad LIX_CACHE_URL): exit code 2 and the help hint. */
export class UsageError extends CliError {
  override name = 'UsageError';

  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** What a message about a failed request needs to know about the connection. */
export interface Target {
  /** The command that ran, e.g. `get`. */
  command: string;
  url: string;
  hasApiKey: boolean;
  timeout: number;
}

/** The first `code` (ECONNREFUSED, ENOTFOUND, …) along an error's `cause` chain. */
function causeCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

/**
 * An SDK error as a {@link CliError} worded for the command line (flags and environment
 * variables, not SDK options). Anything that is not an SDK error is returned unchanged: a bug.
 */
export function explain(error: unknown, target: Target): unknown {
  if (error instanceof CliError || !(error instanceof LixCacheError)) return error;
  const url = redactUrl(target.url);
  if (error instanceof LixConnectionError) {
    const reason = causeCode(error);
    return new CliError(
      `cannot reach ${url}${reason ? ` (${reason})` : ''}: is lix-cache-server running there? ` +
        'Start it (npx lix-cache-server), or set --url or LIX_CACHE_URL to the address of a running server.',
      EXIT.error,
      true,
    );
  }
  if (error instanceof LixTimeoutError) {
    return new CliError(`no answer from ${url} within ${target.timeout} ms: check that the server is up and reachable at --url / LIX_CACHE_URL, or raise --timeout.`, EXIT.error, true);
  }
  if (error instanceof LixAuthError) {
    return new CliError(
      target.hasApiKey
        ? `the server at ${url} refused the API key: set --api-key or LIX_CACHE_API_KEY to one of the keys in the server's LIX_API_KEYS.`
        : `the server at ${url} requires an API key: set LIX_CACHE_API_KEY (or --api-key) to one of the keys in the server's LIX_API_KEYS.`,
    );
  }
  if (error instanceof LixNotFoundError && /answered 404/.test(error.message)) {
    return new CliError(`${url} is not a Lix Cache server (it answered 404): check --url or LIX_CACHE_URL.`);
  }
  if (error instanceof LixResponseTooLargeError) {
    return new CliError(`${target.command} failed: the answer is too large to read at once. Ask for less: a smaller scan --limit, or scan --keys-only.`);
  }
  // Validation, type and server errors: core's messages already say what to do.
  return new CliError(`${target.command} failed: ${error.message}`, EXIT.error, error instanceof LixServerError);
}
