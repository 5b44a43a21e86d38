/**
 * Every error Lix Cache reports, in one registry: code, HTTP status, message.
 * Each message says what is wrong and how to fix it. The server, the engines
 * and the SDK all raise these codes, so a client can switch on `code`.
 */
export const ERRORS = {
  invalid_json: { status: 400, message: (detail: string) => `The request body is not valid JSON (${detail}). Send a JSON object with Content-Type: application/json.` },
  invalid_body: { status: 400, message: (detail: string) => `${detail}` },
  invalid_command: { status: 400, message: (detail: string) => detail },
  unknown_op: { status: 400, message: (op: string, ops: string) => `Unknown op ${op}. Use one of: ${ops}.` },
  invalid_key: { status: 400, message: (detail: string) => `${detail} Keys are non-empty strings, e.g. "user:42".` },
  reserved_key: {
    status: 400,
    message: (key: string) =>
      `The key "${key}" is reserved: JavaScript clients that index plain objects by key would corrupt their prototypes with it. Add a prefix, e.g. "item:${key}".`,
  },
  key_too_long: {
    status: 400,
    message: (bytes: number, max: number) =>
      `The key is ${bytes} bytes of UTF-8; the limit is ${max}. Use a shorter key (hash long ones), or raise the server's LIX_MAX_KEY_BYTES.`,
  },
  invalid_value: { status: 400, message: (detail: string) => detail },
  value_too_large: {
    status: 413,
    message: (bytes: number, max: number) =>
      `The value is ${bytes} bytes as JSON; the limit is ${max}. Store less per key (split it up), or raise the server's LIX_MAX_VALUE_BYTES.`,
  },
  invalid_ttl: {
    status: 400,
    message: (field: string, got: string, max: number) =>
      `"${field}" must be a number of seconds from 0 (no expiry) to ${max}; got ${got}.`,
  },
  invalid_amount: {
    status: 400,
    message: (got: string) => `"amount" must be a finite number (default 1); got ${got}.`,
  },
  invalid_tags: { status: 400, message: (detail: string) => `${detail} Tags are non-empty strings, e.g. ["user:42"].` },
  too_many_tags: {
    status: 400,
    message: (count: number, max: number) =>
      `A key may carry at most ${max} tags; this one has ${count}. Use fewer tags, or raise the server's LIX_MAX_TAGS.`,
  },
  invalid_scan: { status: 400, message: (detail: string) => detail },
  invalid_events: { status: 400, message: (detail: string) => detail },
  batch_too_large: {
    status: 413,
    message: (count: number, max: number) =>
      `The batch has ${count} commands; the limit is ${max}. Split it into smaller batches, or raise the server's LIX_MAX_BATCH.`,
  },
  body_too_large: {
    status: 413,
    message: (max: number) =>
      `The request body is larger than ${max} bytes. Send less per request, or raise the server's LIX_MAX_BODY_BYTES.`,
  },
  response_too_large: {
    status: 413,
    message: (max: number) =>
      `The response would be larger than ${max} bytes, the server's response limit (maxResponseBytes). ` +
      'Fetch fewer keys per batch (or scan with a smaller limit and follow the cursor), or raise the server\'s LIX_MAX_RESPONSE_BYTES.',
  },
  non_numeric: {
    status: 400,
    message: (key: string) =>
      `non_numeric: the value at "${key}" is not a number, so it cannot be incremented or decremented. Delete the key or set it to a number first.`,
  },
  not_object: {
    status: 400,
    message: (key: string) =>
      `not_object: the value at "${key}" is not a JSON object, so it cannot be merged into. Use set to replace it instead.`,
  },
  not_found: { status: 404, message: () => 'not found' },
  unauthorized: {
    status: 401,
    message: () => 'Send "Authorization: Bearer <key>" with one of the keys in the server\'s LIX_API_KEYS.',
  },
  origin_not_allowed: {
    status: 403,
    message: (origin: string) =>
      `Requests from the web page origin ${origin} are refused: cross-origin access is off unless the server's LIX_CORS_ORIGINS (--cors-origins) lists the origin, e.g. LIX_CORS_ORIGINS=${origin}. A page allowed here can read and write the whole cache, sessions included.`,
  },
  host_not_allowed: {
    status: 403,
    message: (host: string) =>
      `The Host header ${host} is refused: with auth off (no LIX_API_KEYS) the server answers only loopback names (localhost, 127.0.0.1, [::1]) and the names in LIX_ALLOWED_HOSTS (--allowed-hosts), so a web page cannot reach it through DNS rebinding. Add the name to LIX_ALLOWED_HOSTS, or turn auth on with LIX_API_KEYS.`,
  },
  unavailable: {
    status: 503,
    message: (detail: string) => `The cache store is unavailable: ${detail}. Requests will work again once it is reachable.`,
  },
  persistence_failed: {
    status: 503,
    message: (file: string, cause: string) =>
      `Writes are refused: the append-only log ${file} cannot be written (${cause}), so they would not be durable. Reads still work. Free disk space or fix the data directory (permissions, the disk); writes are accepted again by themselves once the log can be written.`,
  },
  missing_dependency: {
    status: 500,
    message: (feature: string, pkg: string) => `${feature} needs the "${pkg}" package, which is not installed. Install it: npm install ${pkg}`,
  },
  internal: { status: 500, message: (detail: string) => `Internal error: ${detail}. This is a bug in Lix Cache; please report it.` },
} as const;

/**
 * The server parses bodies with secure-json-parse (protoAction and constructorAction 'error'):
 * an own "__proto__" key, or a "constructor" object with an own "prototype", anywhere in the
 * body is refused. Every transport refuses such a value with this same code and message.
 */
export const PROTOTYPE_PROPERTY_MESSAGE =
  'The value (or command) has a "__proto__" or "constructor.prototype" property, which is refused because it can poison JavaScript objects. Rename that field.';

/** A registered error code: a key of `ERRORS`. */
export type ErrorCode = keyof typeof ERRORS;

type MessageArgs<C extends ErrorCode> = Parameters<(typeof ERRORS)[C]['message']>;

/** An error with a registered code and the HTTP status that goes with it. */
export class LixError extends Error {
  override readonly name = 'LixError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = ERRORS[code].status;
  }
}

/** Build the registered error for `code`, its message filled in. */
export function lixError<C extends ErrorCode>(code: C, ...args: MessageArgs<C>): LixError {
  const build = ERRORS[code].message as (...a: MessageArgs<C>) => string;
  return new LixError(code, build(...args));
}

/** The error for a "__proto__" / "constructor.prototype" property (see PROTOTYPE_PROPERTY_MESSAGE): `invalid_body`, as the server answers. */
export function prototypePropertyError(): LixError {
  return new LixError('invalid_body', PROTOTYPE_PROPERTY_MESSAGE);
}

/** A short, safe description of an unexpected input for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
