/** A response as the http transport needs it. */
export interface HttpResponse {
  status: number;
  text: string;
}

/**
 * One HTTP exchange. Fails with the platform's error: `name === 'TimeoutError'`
 * after `timeoutMs`, a {@link ResponseTooLarge} once the body passes `maxBytes`
 * (read no further), otherwise a network error carrying `code` (or `cause.code`).
 */
export interface HttpClient {
  request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, maxBytes: number): Promise<HttpResponse>;
  /** A long-lived GET whose body is read as it arrives (the near cache's event channel); never holds the process open. */
  stream(path: string, headers: Record<string, string>): Promise<HttpStream>;
  close(): void;
}

/** A response read as it streams in. */
export interface HttpStream {
  status: number;
  /** Pass each piece of text to `onText`; resolves when the body ends, rejects when the connection fails. */
  read(onText: (text: string) => void): Promise<void>;
  /** Drop the connection; a pending `read` settles. */
  cancel(): void;
}

/** A response body longer than the client's `maxResponseBytes`; the transport turns it into LixResponseTooLargeError. */
export class ResponseTooLarge extends Error {
  override name = 'ResponseTooLarge';
  constructor(
    readonly maxBytes: number,
    /** The Content-Length the server announced, when that is how it was found. */
    readonly declared: number | undefined,
  ) {
    super(`response body over ${maxBytes} bytes`);
  }
}

/** The Content-Length header as a number, or undefined when absent or not a number. */
export function declaredLength(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || header === '') return undefined;
  const length = Number(header);
  return Number.isFinite(length) ? length : undefined;
}

/** The global `fetch`: browsers (and any runtime with fetch). */
export function fetchClient(origin: string): HttpClient {
  return {
    async request(method, path, headers, body, timeoutMs, maxBytes) {
      const response = await fetch(origin + path, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const declared = declaredLength(response.headers.get('content-length'));
      if (declared !== undefined && declared > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new ResponseTooLarge(maxBytes, declared);
      }
      if (response.body === null) return { status: response.status, text: '' };
      // Read the stream with a byte count rather than response.text(), which would hold any size in memory first.
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        if (received > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new ResponseTooLarge(maxBytes, declared);
        }
        text += decoder.decode(value, { stream: true });
      }
      return { status: response.status, text: text + decoder.decode() };
    },
    async stream(path, headers) {
      const abort = new AbortController();
      const response = await fetch(origin + path, { headers, signal: abort.signal });
      return {
        status: response.status,
        async read(onText) {
          if (response.body === null) return;
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            onText(decoder.decode(value, { stream: true }));
          }
        },
        cancel: () => abort.abort(),
      };
    },
    close() {},
  };
}
