import { redactUrl } from 'lix-cache-sdk';
import { secureCookiesFromEnv, sessionsFromEnv, trustProxyFromEnv } from 'lix-example-shared/sessions';
import { createApp } from './app';
import { createLogger } from './logger';

/**
 * Starts the example. Configuration by environment (see README):
 * PORT (3000), HOST, LIX_CACHE_URL (http://localhost:4000), LIX_CACHE_API_KEY,
 * COOKIE_SECURE (default: true when NODE_ENV=production), TRUST_PROXY,
 * SESSION_TTL / SESSION_IDLE_TIMEOUT / SESSION_ABSOLUTE_TIMEOUT / REMEMBER_ME_TTL (seconds),
 * SESSION_IP_BINDING (off | exact | subnet), EXAMPLE_WRITE_DELAY_MS, LOG_FORMAT (json | pretty;
 * default: pretty on a terminal, else JSON).
 */
const logger = createLogger();
const { cache, sessions } = sessionsFromEnv();
const secureCookies = secureCookiesFromEnv();
const app = createApp({
  sessions,
  secureCookies,
  trustProxy: trustProxyFromEnv(),
  writeDelayMs: Number(process.env.EXAMPLE_WRITE_DELAY_MS ?? 0),
  logger,
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, process.env.HOST ?? '0.0.0.0', () => {
  logger.info(`express-sessions example listening on http://${process.env.HOST ?? 'localhost'}:${port} (cache ${redactUrl(cache.url)}, secure cookies: ${secureCookies})`);
});

function shutdown(): void {
  server.close(() => void cache.close().finally(() => process.exit(0)));
  server.closeAllConnections();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
