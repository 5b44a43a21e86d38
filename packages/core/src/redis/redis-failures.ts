/**
 * What an ioredis failure that is not a command's own error means for a client, so RedisEngine
 * answers one clear `unavailable` message per cause and never ioredis's raw text (which depends
 * on which instant of a disconnect a request hit, e.g. "Stream isn't writeable and
 * enableOfflineQueue options is false" while the socket closes but the client still says ready).
 *
 * - `unreachable`: the connection or the cluster's state (socket errors, closed or closing
 *   connections, retries given up, slot map not loadable, and the replies LOADING, CLUSTERDOWN,
 *   MASTERDOWN, TRYAGAIN, READONLY, NOREPLICAS, BUSY, MOVED, ASK, NOSCRIPT: "not serving right now");
 * - `timeout`: no reply within `commandTimeoutMs`;
 * - `out_of_memory`: Redis refused a write at `maxmemory` (OOM reply);
 * - `other`: anything else that is not a command's own error (kept as the LixError's `cause`).
 *
 * The lists come from ioredis 5's source (Redis.js, cluster/index.js, redis/event_handler.js,
 * errors/) and Node's socket error codes.
 */
export type RedisFailure = 'unreachable' | 'timeout' | 'out_of_memory' | 'other';

/** Node socket and stream error codes of a connection that failed or went away. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_SOCKET_CLOSED',
]);

/** ioredis error classes of a connection that went away (AbortError: commands flushed on close). */
const CONNECTION_NAMES = new Set(['AbortError', 'InterruptError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError', 'ParserError']);

/** ioredis's own messages about the connection or the cluster's state. */
const CONNECTION_MESSAGE =
  /^(Stream isn't writeable|Connection is closed|Connection is aborted|Connection is discarded|Command aborted due to connection close|Reached the max retries per request|Cluster isn't ready|Cluster is (disconnected|disconnecting|ended)|None of startup nodes is available|Failed to refresh slots cache|Node is disconnected|Too many Cluster redirections|Ready check failed|Socket timeout|connect E[A-Z]+|read E[A-Z]+|write E[A-Z]+)/;

/**
 * Redis replies that mean "not serving right now", not "this command is wrong" (Redis 7 may put
 * "ERR " first). MOVED and ASK reach us when ioredis does not follow them: an autopipelined
 * command whose pipeline got mixed replies while a master was going away; NOSCRIPT, from a master
 * that restarted (RedisEngine resends once first).
 */
const UNAVAILABLE_REPLY = /^(ERR )?(LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|READONLY|NOREPLICAS|BUSY|MOVED|ASK|NOSCRIPT|OOM)\b/;

/** Whether a Redis reply error means Redis is not serving (rather than the command being wrong). */
export function isUnavailableReply(message: string): boolean {
  return UNAVAILABLE_REPLY.test(message);
}

export function classifyRedisFailure(error: unknown): RedisFailure {
  if (!(error instanceof Error)) return 'other';
  const { code } = error as Error & { code?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return 'unreachable';
  if (CONNECTION_NAMES.has(error.name)) return 'unreachable';
  if (error.message === 'Command timed out') return 'timeout';
  const reply = UNAVAILABLE_REPLY.exec(error.message);
  if (reply) return reply[2] === 'OOM' ? 'out_of_memory' : 'unreachable';
  if (CONNECTION_MESSAGE.test(error.message)) return 'unreachable';
  return 'other';
}
