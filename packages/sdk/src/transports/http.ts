import { checkPrototypeProperties, DEFAULT_LIMITS, type ChangeListener, type Command, type EngineHealth, type EngineStats, type Limits, type Result, type Watch } from 'lix-cache-core';
import type { ResolvedConfig } from '../config';
import { decodeOne, malformed, type Decode } from '../decode';
import {
  errorFromCode,
  fromCoreError,
  LixAuthError,
  LixConnectionError,
  LixNotFoundError,
  LixResponseTooLargeError,
  LixServerError,
  LixTimeoutError,
  LixValidationError,
} from '../errors';
import { AttemptFailure, withRetries, type RetryPolicy } from '../retry';
import { EventChannel } from './event-channel';
import { ResponseTooLarge, type HttpClient, type HttpResponse } from './http-client';
import type { Transport } from './transport';

/**
 * Size limits are the server's to enforce (they are configurable there), so the
 * client checks only shapes and types before sending.
 */
const REMOTE_LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  maxKeyBytes: Number.MAX_SAFE_INTEGER,
  maxValueBytes: Number.MAX_SAFE_INTEGER,
  maxBatch: Number.MAX_SAFE_INTEGER,
  maxTags: Number.MAX_SAFE_INTEGER,
  maxTtl: Number.MAX_SAFE_INTEGER,
  maxScanLimit: Number.MAX_SAFE_INTEGER,
};

/** Names this client's event channel on each batch, so the server tracks what it read. */
const CLIENT_HEADER = 'x-lix-client';

/** Failures where the request certainly never reached the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code ?? (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The server over HTTP: every batch is one `POST /cache/batch`, over keep-alive
 * connections (node:http in Node, fetch in browsers: see open.ts / open.browser.ts).
 */
export class HttpTransport implements Transport<string> {
  readonly immediate = false;
  readonly limits = REMOTE_LIMITS;
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  private readonly policy: RetryPolicy;

  private readonly client: HttpClient;

  constructor(
    private readonly config: ResolvedConfig,
    client: (origin: string) => HttpClient,
  ) {
    this.origin = new URL(config.url).href.replace(/\/+$/, '');
    this.client = client(this.origin);
    this.headers = { 'content-type': 'application/json' };
    if (config.apiKey) this.headers.authorization = `Bearer ${config.apiKey}`;
    this.policy = config;
  }

  prepare(command: Command): string {
    const value = (command as { value?: unknown }).value;
    if (typeof value === 'function' || typeof value === 'symbol') throw unserializable((command as { key: string }).key, `a ${typeof value}`);
    let json: string;
    try {
      json = JSON.stringify(command);
    } catch (error) {
      throw unserializable((command as { key: string }).key, (error as Error).message);
    }
    try {
      // The server would refuse the whole batch for it; refused here, only this command fails.
      checkPrototypeProperties(json);
    } catch (error) {
      throw fromCoreError(error);
    }
    return json;
  }

  execute(prepared: readonly string[], retrySafe: boolean): Promise<Result[]> {
    const body = `{"operations":[${prepared.join(',')}]}`;
    return withRetries(async () => {
      const answer = (await this.request('POST', '/cache/batch', body)) as { results?: Result[] } | null;
      if (!Array.isArray(answer?.results)) throw new AttemptFailure(malformed('a batch answer without a "results" array'), true, false);
      return answer.results;
    }, this.policy, retrySafe);
  }

  executeOne<R>(prepared: string, retrySafe: boolean, decode: Decode<R>): Promise<R> {
    return this.execute([prepared], retrySafe).then((results) => decodeOne(results, decode));
  }

  /** The server's `GET /cache/events`; in tracking mode, batches carry the channel's id so the server knows what this client read. */
  watch(listener: ChangeListener, prefixes: readonly string[] | undefined): Watch {
    const query = prefixes?.map((prefix) => `prefix=${encodeURIComponent(prefix)}`).join('&');
    const headers: Record<string, string> = {};
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    return new EventChannel({
      client: this.client,
      path: query ? `/cache/events?${query}` : '/cache/events',
      headers,
      timeoutMs: this.config.timeout,
      listener,
      onClient: (id) => {
        if (prefixes !== undefined) return;
        if (id === undefined) delete this.headers[CLIENT_HEADER];
        else this.headers[CLIENT_HEADER] = id;
      },
      logger: this.config.logger,
      origin: this.origin,
    });
  }

  async stats(): Promise<EngineStats> {
    const body = (await withRetries(() => this.request('GET', '/cache/stats'), this.policy, true)) as
      | (Record<string, unknown> & { stats?: Record<string, number> | null })
      | null;
    if (typeof body !== 'object' || body === null) throw malformed('a stats answer that is not an object');
    const counters = typeof body.stats === 'object' && body.stats !== null ? body.stats : {};
    const num = (value: unknown) => (typeof value === 'number' ? value : 0);
    return {
      engine: typeof body.engine === 'string' ? body.engine : 'server',
      size: num(body.size),
      limit: num(body.limit),
      memory: num(body.memory),
      maxMemory: num(body.maxMemory),
      hits: num(counters.hits),
      misses: num(counters.misses),
      evictions: num(counters.evictions),
      expirations: num(counters.expirations),
      operations: num(counters.operations),
    };
  }

  async health(): Promise<EngineHealth> {
    try {
      const body = (await this.request('GET', '/health')) as { status?: string; message?: string };
      return body?.status === 'healthy' ? { ok: true } : { ok: false, message: body?.message ?? `status ${String(body?.status)}` };
    } catch (failure) {
      return { ok: false, message: failure instanceof AttemptFailure ? failure.error.message : String(failure) };
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** One HTTP request; failures come out as AttemptFailure for the retry policy. */
  private async request(method: 'GET' | 'POST', path: string, body?: string): Promise<unknown> {
    let response: HttpResponse;
    try {
      response = await this.client.request(method, path, this.headers, body, this.config.timeout, this.config.maxResponseBytes);
    } catch (error) {
      if (error instanceof ResponseTooLarge) throw new AttemptFailure(this.tooLarge(error), true, false);
      throw this.networkFailure(error);
    }
    const text = response.text;
    if (response.status >= 200 && response.status < 300) {
      try {
        return JSON.parse(text);
      } catch {
        throw new AttemptFailure(malformed(`a body that is not JSON: ${text.slice(0, 80)}`), true, false);
      }
    }
    throw this.statusFailure(response.status, text, path);
  }

  private tooLarge(error: ResponseTooLarge): LixResponseTooLargeError {
    const size = error.declared === undefined ? `more than ${error.maxBytes} bytes` : `${error.declared} bytes`;
    return new LixResponseTooLargeError(
      `The Lix Cache server at ${this.origin} sent a response of ${size}, over this client's maxResponseBytes (${error.maxBytes}); it was not read. ` +
        'Ask for less per call (fewer or smaller values, a smaller scan "limit"), or raise the "maxResponseBytes" option.',
    );
  }

  private networkFailure(error: unknown): AttemptFailure {
    if ((error as { name?: string })?.name === 'TimeoutError') {
      return new AttemptFailure(
        new LixTimeoutError(`No answer from the Lix Cache server at ${this.origin} within ${this.config.timeout} ms. Check that it is up and reachable, or raise the "timeout" option.`, { cause: error }),
        true,
        true,
      );
    }
    const code = causeCode(error);
    const reason = code ?? (error as Error)?.message ?? String(error);
    return new AttemptFailure(
      new LixConnectionError(
        `Could not reach the Lix Cache server at ${this.origin} (${reason}). Start it (npx lix-cache-server) or point the "url" option / LIX_CACHE_URL at a running server.`,
        { cause: error },
      ),
      code === undefined || !NOT_SENT.has(code),
      true,
    );
  }

  private statusFailure(status: number, text: string, path: string): AttemptFailure {
    let body: { error?: unknown; message?: unknown; code?: unknown } = {};
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: a proxy's error page, say; described below by status
    }
    const message = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : text.slice(0, 200);
    const code = typeof body.code === 'string' ? body.code : undefined;
    if (status === 401) {
      const what = this.config.apiKey
        ? 'The Lix Cache server rejected the API key.'
        : 'The Lix Cache server requires an API key.';
      return new AttemptFailure(
        new LixAuthError(`${what} Pass "apiKey" (or set LIX_CACHE_API_KEY) to one of the keys in the server's LIX_API_KEYS.`),
        true,
        false,
      );
    }
    if (status === 404 && code === undefined) {
      return new AttemptFailure(
        new LixNotFoundError('not_found', `${this.origin}${path} answered 404: this URL is not a Lix Cache server (or one too old for this client). Check the "url" option.`),
        true,
        false,
      );
    }
    if (status >= 500) {
      return new AttemptFailure(new LixServerError(code ?? 'server_error', `The Lix Cache server failed (HTTP ${status}): ${message}`, status), true, true);
    }
    return new AttemptFailure(errorFromCode(code ?? 'bad_request', message || `HTTP ${status}`, status), true, false);
  }
}

function unserializable(key: string, detail: string): LixValidationError {
  const message = `The value for "${key}" cannot be stored as JSON (${detail}). Store plain data: objects, arrays, strings, numbers, booleans, null.`;
  return new LixValidationError('invalid_value', message, [{ message }]);
}
