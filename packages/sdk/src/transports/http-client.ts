/** A response as the http transport needs it. */
export interface HttpResponse {
  status: number;
  text: string;
}

/**
 * One HTTP exchange. Fails with the platform's error: `name === 'TimeoutError'`
 * after `timeoutMs`, otherwise a network error carrying `code` (or `cause.code`).
 */
export interface HttpClient {
  request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<HttpResponse>;
  close(): void;
}

/** The global `fetch`: browsers (and any runtime with fetch). */
export function fetchClient(origin: string): HttpClient {
  return {
    async request(method, path, headers, body, timeoutMs) {
      const response = await fetch(origin + path, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      return { status: response.status, text: await response.text() };
    },
    close() {},
  };
}
