import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** How a session is bound to the client's IP address. */
export type IpBinding = 'off' | 'exact' | 'subnet';

/** `::ffff:1.2.3.4` (IPv4 seen by an IPv6 socket) is 1.2.3.4. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/**
 * Whether two client addresses are the same for `mode`: `exact` compares the
 * addresses, `subnet` the IPv4 /24 or IPv6 /64 network (mobile clients hop
 * between addresses of one network), `off` always matches.
 */
export function sameClient(stored: string, current: string, mode: IpBinding): boolean {
  if (mode === 'off') return true;
  const a = normalizeIp(stored);
  const b = normalizeIp(current);
  if (a === b) return true;
  if (mode === 'exact') return false;
  const family = isIPv4(a) && isIPv4(b) ? 'ipv4' : isIPv6(a) && isIPv6(b) ? 'ipv6' : undefined;
  if (!family) return false;
  const network = new BlockList();
  network.addSubnet(a, family === 'ipv4' ? 24 : 64, family);
  return network.check(b, family);
}
