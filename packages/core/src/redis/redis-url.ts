import { redactUrl } from '../commands/redact-url';

/** Where a RedisEngine connects, parsed from its `url` option. */
export interface RedisTarget {
  /** Standalone host and port (unused for a Cluster). */
  host: string;
  port: number;
  db: number;
  /** Cluster seed nodes; empty for a standalone server. */
  nodes: { host: string; port: number }[];
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
  /** host:port list for messages, without credentials. */
  where: string;
  /** From `?keyPrefix=…`, when given. */
  keyPrefix: string | undefined;
}

const EXAMPLES = 'redis://127.0.0.1:6379, redis://:password@host:6379/2, rediss://host:6380, or redis-cluster://host1:7000,host2:7001';

function bad(url: string, why: string): TypeError {
  return new TypeError(`Invalid Redis URL "${redactUrl(url)}": ${why}. Use ${EXAMPLES}.`);
}

/** Percent-decoded user name or password; a bad escape is an error that does not show it. */
function credential(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw bad(url, 'its user name or password is not valid percent-encoding (write % as %25)');
  }
}

function parsePort(url: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw bad(url, `"${text}" is not a port number`);
  return port;
}

/** One `host:port` of a cluster URL; `[v6]:port` for IPv6. */
function parseHostPort(url: string, text: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d*))?$/.exec(text);
  if (!match) throw bad(url, `"${text}" is not host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? parsePort(url, match[2]) : 6379 };
}

/** The `?keyPrefix=` parameter; any other parameter is an error (a typo must not go unnoticed). */
function parseQuery(url: string, query: string): string | undefined {
  let keyPrefix: string | undefined;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name !== 'keyPrefix') throw bad(url, `the parameter "${name}" is unknown (known: keyPrefix)`);
    keyPrefix = value;
  }
  return keyPrefix;
}

/**
 * Parse `redis://`, `rediss://`, `redis-cluster://` and `rediss-cluster://` URLs,
 * each optionally with `?keyPrefix=…`, with a clear error for anything else.
 */
export function parseRedisUrl(full: string): RedisTarget {
  const queryAt = full.indexOf('?');
  const url = queryAt < 0 ? full : full.slice(0, queryAt);
  const keyPrefix = queryAt < 0 ? undefined : parseQuery(full, full.slice(queryAt + 1));
  const scheme = /^([a-z-]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'redis-cluster' || scheme === 'rediss-cluster') {
    let rest = url.slice(scheme.length + 3).replace(/\/$/, '');
    let username: string | undefined;
    let password: string | undefined;
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const auth = rest.slice(0, at);
      rest = rest.slice(at + 1);
      const colon = auth.indexOf(':');
      username = credential(url, colon < 0 ? auth : auth.slice(0, colon)) || undefined;
      password = colon < 0 ? undefined : credential(url, auth.slice(colon + 1));
    }
    if (rest === '') throw bad(url, 'it lists no nodes');
    const nodes = rest.split(',').map((part) => parseHostPort(url, part.trim()));
    return { host: '', port: 0, db: 0, nodes, username, password, tls: scheme === 'rediss-cluster', where: rest, keyPrefix };
  }
  if (scheme !== 'redis' && scheme !== 'rediss') throw bad(url, scheme ? `the scheme "${scheme}://" is not a Redis one` : 'it has no scheme');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(url, 'it is not a URL');
  }
  if (parsed.hostname === '') throw bad(url, 'it has no host');
  const path = parsed.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw bad(url, `the database "/${path}" is not a number`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port ? parsePort(url, parsed.port) : 6379;
  return {
    host,
    port,
    db: path === '' ? 0 : Number(path),
    nodes: [],
    username: parsed.username ? credential(url, parsed.username) : undefined,
    password: parsed.password ? credential(url, parsed.password) : undefined,
    tls: scheme === 'rediss',
    where: `${parsed.hostname}:${port}`,
    keyPrefix,
  };
}
