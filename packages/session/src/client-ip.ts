import ipaddr from 'ipaddr.js';

/** How a session is bound to the client's IP address. */
export type IpBinding = 'off' | 'exact' | 'subnet';

/** Parsed, with `::ffff:1.2.3.4` (IPv4 seen by an IPv6 socket) as 1.2.3.4; undefined when not an address. */
function parse(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  return ipaddr.isValid(ip) ? ipaddr.process(ip) : undefined;
}

/**
 * Whether two client addresses are the same for `mode`: `exact` compares the
 * addresses, `subnet` the IPv4 /24 or IPv6 /64 network (mobile clients hop
 * between addresses of one network), `off` always matches.
 */
export function sameClient(stored: string, current: string, mode: IpBinding): boolean {
  if (mode === 'off') return true;
  if (stored === current) return true;
  const a = parse(stored);
  const b = parse(current);
  if (!a || !b || a.kind() !== b.kind()) return false;
  if (a.toNormalizedString() === b.toNormalizedString()) return true;
  if (mode === 'exact') return false;
  return a.kind() === 'ipv4' ? (a as ipaddr.IPv4).match(b as ipaddr.IPv4, 24) : (a as ipaddr.IPv6).match(b as ipaddr.IPv6, 64);
}
