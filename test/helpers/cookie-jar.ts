/**
 * A tiny browser stand-in for HTTP tests: Node's fetch plus a cookie jar.
 * It keeps the cookies responses set (dropping ones cleared with Max-Age=0 or a past
 * Expires), sends them back, and remembers the last `csrfToken` a JSON body carried,
 * sending it as `x-csrf-token` unless told otherwise. Secure cookies are kept over
 * plain http too (tests run without TLS); check the attributes with `setCookies`.
 *
 * ```ts
 * const alice = new CookieClient('http://127.0.0.1:3000');
 * await alice.post('/api/login', { username: 'alice', password: 'wonderland' });
 * expect((await alice.get('/api/profile')).status).toBe(200);
 * ```
 */

export interface ClientResponse<T = any> {
  status: number;
  /** The parsed JSON body (undefined when the body is not JSON). */
  body: T;
  headers: Headers;
  /** The raw Set-Cookie lines of this response. */
  setCookies: string[];
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** CSRF token to send as x-csrf-token: default the last one seen; `false` sends none. */
  csrf?: string | false;
}

export class CookieClient {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ClientResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const csrf = options.csrf === undefined ? this.csrfToken : options.csrf;
    if (csrf) headers['x-csrf-token'] = csrf;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body, redirect: 'manual' });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) this.store(line);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const token = (parsed as { csrfToken?: unknown } | undefined)?.csrfToken;
    if (typeof token === 'string') this.csrfToken = token;
    return { status: response.status, body: parsed as T, headers: response.headers, setCookies };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }

  post<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }

  put<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }

  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }

  /** A second client holding copies of this one's cookies (a stolen cookie, another tab), for this app or another at `baseUrl`. */
  clone(baseUrl = this.baseUrl): CookieClient {
    const copy = new CookieClient(baseUrl);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    copy.csrfToken = this.csrfToken;
    return copy;
  }

  private store(line: string): void {
    const [pair, ...attributes] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const cleared = attributes.some((attribute) => {
      const [key, raw = ''] = attribute.trim().split('=');
      const lower = key!.toLowerCase();
      return (lower === 'max-age' && Number(raw) <= 0) || (lower === 'expires' && Date.parse(raw) <= Date.now());
    });
    if (cleared || value === '') this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** The attributes of the Set-Cookie line for `name` (lower-cased keys; flags map to true), or undefined. */
export function cookieAttributes(setCookies: string[], name: string): Record<string, string | true> | undefined {
  const line = setCookies.find((cookie) => cookie.startsWith(`${name}=`));
  if (!line) return undefined;
  const [pair, ...attributes] = line.split(';');
  const result: Record<string, string | true> = { value: pair!.slice(name.length + 1) };
  for (const attribute of attributes) {
    const [key, ...rest] = attribute.trim().split('=');
    result[key!.toLowerCase()] = rest.length ? rest.join('=') : true;
  }
  return result;
}
