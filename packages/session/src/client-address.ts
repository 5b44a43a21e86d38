import proxyAddr from 'proxy-addr';

/** Which proxies to trust for the client address, as Express's `trust proxy` setting takes it. */
export type TrustProxy = boolean | number | string | string[] | ((address: string, hop: number) => boolean);

/** A compiled `TrustProxy`. */
export type TrustFunction = (address: string, hop: number) => boolean;

/** A `trust proxy` value, compiled the way Express does (it does not export its compiler). */
export function compileTrust(value: TrustProxy): TrustFunction {
  if (typeof value === 'function') return value;
  if (value === true) return () => true;
  if (value === false) return () => false;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new TypeError(`trustProxy: a hop count must be a whole number ≥ 0; got ${value}.`);
    return (_address, hop) => hop < value;
  }
  if (typeof value !== 'string' && !Array.isArray(value)) throw new TypeError(`trustProxy must be true, false, a hop count, addresses/subnets ('loopback', '10.0.0.0/8') or a function; got ${String(value)}.`);
  try {
    return proxyAddr.compile(typeof value === 'string' ? value.split(',').map((part) => part.trim()) : value);
  } catch (error) {
    throw new TypeError(`trustProxy: ${(error as Error).message}. Use addresses, subnets or names such as 'loopback', 'linklocal', 'uniquelocal'.`);
  }
}

/**
 * The client's address: the peer's, or with `trust`, the nearest X-Forwarded-For entry not
 * sent by a trusted proxy. Works from header strings alone (proxy-addr and its dependencies
 * import no Node modules), so web-standard adapters use it too.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null | undefined, trust: TrustFunction | undefined): string | undefined {
  if (!trust || peer === undefined) return peer;
  const request = { headers: { 'x-forwarded-for': forwardedFor ?? undefined }, connection: { remoteAddress: peer }, socket: { remoteAddress: peer } };
  return proxyAddr(request as unknown as Parameters<typeof proxyAddr>[0], trust);
}
