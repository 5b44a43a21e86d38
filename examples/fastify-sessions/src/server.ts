import type { FastifyServerOptions } from 'fastify';
import { LixCache, redactUrl } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { createApp, SessionSchema } from './app';

/**
 * Starts the example. Configuration by environment (see README):
 * PORT (3000), HOST, LIX_CACHE_URL (http://localhost:4000), LIX_CACHE_API_KEY,
 * COOKIE_SECURE (default: true when NODE_ENV=production), TRUST_PROXY,
 * SESSION_TTL / SESSION_IDLE_TIMEOUT / SESSION_ABSOLUTE_TIMEOUT / REMEMBER_ME_TTL (seconds),
 * SESSION_IP_BINDING (off | exact | subnet), EXAMPLE_WRITE_DELAY_MS.
 */
function seconds(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds; got "${raw}".`);
  return value;
}

/** Fastify's trustProxy from TRUST_PROXY: true/false, a hop count, or addresses/subnets ("loopback", "10.0.0.0/8"). */
function trustProxy(raw: string | undefined): FastifyServerOptions['trustProxy'] {
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (!/^\d+$/.test(raw)) return raw;
  const hops = Number(raw);
  return (_address: string, hop: number) => hop < hops;
}

const ipBinding = process.env.SESSION_IP_BINDING ?? 'off';
if (ipBinding !== 'off' && ipBinding !== 'exact' && ipBinding !== 'subnet') throw new Error(`SESSION_IP_BINDING must be off, exact or subnet; got "${ipBinding}".`);

const cache = new LixCache({ timeout: 2000, maxRetries: 1 });
const sessions = new SessionStore({
  cache,
  schema: SessionSchema,
  ttl: seconds('SESSION_TTL') ?? 3600,
  idleTimeout: seconds('SESSION_IDLE_TIMEOUT'),
  absoluteTimeout: seconds('SESSION_ABSOLUTE_TIMEOUT'),
  binding: { ip: ipBinding },
  rememberMe: { ttl: seconds('REMEMBER_ME_TTL') },
});

const secureCookies = process.env.COOKIE_SECURE ? process.env.COOKIE_SECURE === 'true' : process.env.NODE_ENV === 'production';
const app = await createApp({
  sessions,
  secureCookies,
  trustProxy: trustProxy(process.env.TRUST_PROXY),
  writeDelayMs: Number(process.env.EXAMPLE_WRITE_DELAY_MS ?? 0),
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';
await app.listen({ port, host });
console.log(`fastify-sessions example listening on http://${process.env.HOST ?? 'localhost'}:${port} (cache ${redactUrl(cache.url)}, secure cookies: ${secureCookies})`);

let stopping = false;
function shutdown(): void {
  if (stopping) return;
  stopping = true;
  // close() stops listening, waits for requests in flight, then the cache connection goes.
  void app.close().finally(() => void cache.close().finally(() => process.exit(0)));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
