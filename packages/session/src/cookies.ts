import type { SerializeOptions } from 'cookie';

/** Cookie attributes every session cookie option set has. */
interface CookieAttributes {
  /**
   * SameSite (default `'lax'`: the cookie rides along on top-level navigations from other
   * sites, so a link into the app keeps the user signed in, but not on cross-site
   * POSTs, images or fetches). `'strict'` is tighter; `'none'` needs `secure`.
   */
  sameSite?: 'lax' | 'strict' | 'none';
  /** HttpOnly (default `true`): page scripts cannot read the cookie, so XSS cannot steal it. */
  httpOnly?: boolean;
  /**
   * Max-Age of the session cookie, in seconds. Default: the store's `absoluteTimeout`,
   * else its `ttl` (a session cannot outlive it, so neither need the cookie).
   */
  maxAge?: number;
}

/** Options for a cookie whose name has no `__Host-` / `__Secure-` prefix. */
interface PlainCookie extends CookieAttributes {
  /**
   * Secure (default `true`): sent over HTTPS only. Set `false` for plain-HTTP development
   * and tests only (e.g. `secure: process.env.NODE_ENV === 'production'`).
   */
  secure?: boolean;
  /** Path (default `'/'`). */
  path?: string;
  /** Domain (default none: this host only, the safest). */
  domain?: string;
}

/**
 * Cookie options, checked against the cookie name's prefix: a `__Host-` cookie must be
 * Secure, on Path=/ and have no Domain; a `__Secure-` cookie must be Secure. Browsers
 * drop cookies that break these rules, so the types (and a runtime check) reject them.
 */
export type SessionCookieOptions<N extends string = string> = {
  /**
   * The session cookie's name. Default `'__Host-lix.sid'` when the cookie is Secure, on
   * Path=/ with no Domain (the `__Host-` prefix makes browsers refuse it from subdomains
   * or plain HTTP), else `'lix.sid'`.
   */
  name?: N;
  /** The remember-me cookie's name. Default: `__Host-lix.remember` or `lix.remember`, as for `name`. */
  rememberName?: string;
  /** The guest session cookie's name (with `guest` on). Default: `__Host-lix.guest` or `lix.guest`, as for `name`. */
  guestName?: string;
} & (N extends `__Host-${string}`
  ? Omit<PlainCookie, 'secure' | 'path' | 'domain'> & { secure?: true; path?: '/'; domain?: undefined }
  : N extends `__Secure-${string}`
    ? Omit<PlainCookie, 'secure'> & { secure?: true }
    : PlainCookie);

/** The cookie settings, resolved once. */
export interface ResolvedCookies {
  name: string;
  rememberName: string;
  guestName: string;
  /** Attributes of the session and guest cookies (with Max-Age). */
  session: SerializeOptions;
  /** Attributes of the remember-me cookie (Max-Age set by the caller). */
  remember: SerializeOptions;
  /** Attributes that clear a cookie. */
  clear: SerializeOptions;
}

/** RFC 6265 token characters (what `cookie.serialize` accepts as a name). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function checkName(name: string, secure: boolean, path: string, domain: string | undefined, what: string): void {
  if (name.startsWith('__Host-') && (!secure || path !== '/' || domain !== undefined)) {
    throw new TypeError(`lixSession: the ${what} "${name}" has the __Host- prefix, so it must be secure, on path '/' and without a domain; browsers drop it otherwise.`);
  }
  if (name.startsWith('__Secure-') && !secure) {
    throw new TypeError(`lixSession: the ${what} "${name}" has the __Secure- prefix, so it must be secure; browsers drop it otherwise.`);
  }
}

/** Check the cookie options once and fill in secure defaults. */
export function resolveCookies(options: SessionCookieOptions = {}, defaultMaxAge: number, rememberMaxAge: number): ResolvedCookies {
  if (typeof options !== 'object' || options === null) throw new TypeError('lixSession: "cookie" must be an object such as { secure: true, sameSite: "lax" }.');
  const plain = options as PlainCookie & { name?: string; rememberName?: string; guestName?: string };
  const secure = plain.secure ?? true;
  const path = plain.path ?? '/';
  const domain = plain.domain;
  const sameSite = plain.sameSite ?? 'lax';
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') throw new TypeError(`lixSession: cookie.sameSite must be 'lax', 'strict' or 'none'; got ${String(sameSite)}.`);
  if (sameSite === 'none' && !secure) throw new TypeError(`lixSession: cookie.sameSite 'none' needs secure: true; browsers reject it otherwise.`);
  const maxAge = plain.maxAge ?? defaultMaxAge;
  if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0) throw new TypeError(`lixSession: cookie.maxAge must be a positive number of seconds; got ${String(maxAge)}.`);

  const hostPrefix = secure && path === '/' && domain === undefined ? '__Host-' : '';
  const name = plain.name ?? `${hostPrefix}lix.sid`;
  const rememberName = plain.rememberName ?? `${hostPrefix}lix.remember`;
  const guestName = plain.guestName ?? `${hostPrefix}lix.guest`;
  for (const [option, value] of [['name', name], ['rememberName', rememberName], ['guestName', guestName]] as const) {
    if (typeof value !== 'string' || !COOKIE_NAME.test(value)) throw new TypeError(`lixSession: cookie.${option} must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~); got ${String(value)}.`);
  }
  if (new Set([name, rememberName, guestName]).size !== 3) throw new TypeError('lixSession: cookie.name, cookie.rememberName and cookie.guestName must all differ.');
  checkName(name, secure, path, domain, 'cookie');
  checkName(rememberName, secure, path, domain, 'remember-me cookie');
  checkName(guestName, secure, path, domain, 'guest cookie');

  const base: SerializeOptions = { httpOnly: plain.httpOnly ?? true, secure, sameSite, path };
  if (domain !== undefined) base.domain = domain;
  return {
    name,
    rememberName,
    guestName,
    session: { ...base, maxAge: Math.floor(maxAge) },
    remember: { ...base, maxAge: Math.floor(rememberMaxAge) },
    clear: { ...base, maxAge: 0, expires: new Date(0) },
  };
}
