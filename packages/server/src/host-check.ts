import { isLoopbackHost } from './config';

/**
 * The Host check that stops DNS rebinding while auth is off: a web page on
 * attacker.example whose name is re-pointed at 127.0.0.1 reaches this server
 * as "same origin", but its requests still say `Host: attacker.example`.
 * Accepts loopback names (any port), the configured names, and requests with
 * no Host at all (HTTP/1.0 tools; every browser sends one).
 *
 * Returns undefined when there is nothing to check (auth on, or `*` allowed).
 */
export function createHostCheck(config: { authEnabled: boolean; allowedHosts: readonly string[]; host: string }): ((host: string | undefined) => boolean) | undefined {
  if (config.authEnabled || config.allowedHosts.includes('*')) return undefined;
  const allowed = new Set(config.allowedHosts);
  // A specific listen address (HOST=10.0.0.5 with protected mode off) is a name clients use.
  if (config.host !== '0.0.0.0' && config.host !== '::') allowed.add(config.host.toLowerCase().replace(/^([0-9a-f:]*:[0-9a-f:.]*)$/, '[$1]'));
  // The last Host seen and its answer: a server's clients nearly always send the same one, so the parse is skipped.
  let lastHost = '';
  let lastAnswer = false;
  return (host) => {
    if (host === undefined) return true;
    if (host === lastHost) return lastAnswer;
    const answer = check(host.toLowerCase(), allowed);
    lastHost = host;
    lastAnswer = answer;
    return answer;
  };
}

function check(host: string, allowed: ReadonlySet<string>): boolean {
  // "name:port", "[v6]:port" or a bare name; a trailing dot names the same host.
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  if (end > 0 && end < host.length && !/^:\d*$/.test(host.slice(end))) return false;
  let name = end > 0 ? host.slice(0, end) : host;
  if (name.endsWith('.')) name = name.slice(0, -1);
  return isLoopbackHost(name) || allowed.has(name);
}
