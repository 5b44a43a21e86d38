import { LixCache } from 'lix-cache-sdk';
import { SessionStore, type DeviceSession, type TrustProxy } from 'lix-cache-session';
import { z } from 'zod';
import { loadUser, type User } from './users';

/*
 * The session setup every example app shares. Configuration by environment (see the apps'
 * READMEs): LIX_CACHE_URL (http://localhost:4000), LIX_CACHE_API_KEY, COOKIE_SECURE (default:
 * true when NODE_ENV=production), TRUST_PROXY, SESSION_TTL / SESSION_IDLE_TIMEOUT /
 * SESSION_ABSOLUTE_TIMEOUT / REMEMBER_ME_TTL (seconds), SESSION_IP_BINDING (off | exact | subnet),
 * LIX_NEAR_CACHE (true: sessions are read in-process, kept coherent by the server's pushed
 * invalidations; default false), SESSION_TOUCH_INTERVAL (seconds, with the near cache).
 */

/** The session's data, checked on every write and read. */
export const SessionSchema = z.object({
  userId: z.string(),
  username: z.string(),
  email: z.email(),
  roles: z.array(z.string()),
  createdAt: z.number(),
  lastAccess: z.number(),
  theme: z.enum(['light', 'dark']).optional(),
  cart: z.array(z.string()).optional(),
});

export type AppSessionData = z.output<typeof SessionSchema>;
export type AppSessionStore = SessionStore<AppSessionData>;

/** What a signed-in user's session starts with. */
export function sessionDataOf(user: User) {
  return { userId: user.id, username: user.username, email: user.email, roles: user.roles };
}

/** remember-me's `loadUser`: the session data of a user who still exists, else null (no sign-in). */
export function rememberedUser(userId: string) {
  const user = loadUser(userId);
  return user ? sessionDataOf(user) : null;
}

/** `GET /api/sessions`'s body: the device list with handles as ids (never session ids) and ISO dates. */
export function devicesJson(list: DeviceSession[]) {
  return {
    sessions: list.map((s) => ({
      id: s.handle,
      deviceId: s.deviceId,
      deviceName: s.deviceName,
      lastIP: s.lastIP,
      lastAccess: new Date(s.lastAccess).toISOString(),
      createdAt: new Date(s.createdAt).toISOString(),
      current: s.current,
    })),
  };
}

function seconds(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds; got "${raw}".`);
  return value;
}

/** The cache client and the session store, from the environment. */
export function sessionsFromEnv(): { cache: LixCache; sessions: AppSessionStore } {
  const ipBinding = process.env.SESSION_IP_BINDING ?? 'off';
  if (ipBinding !== 'off' && ipBinding !== 'exact' && ipBinding !== 'subnet') throw new Error(`SESSION_IP_BINDING must be off, exact or subnet; got "${ipBinding}".`);
  const near = process.env.LIX_NEAR_CACHE ?? 'false';
  if (near !== 'true' && near !== 'false') throw new Error(`LIX_NEAR_CACHE must be true or false; got "${near}".`);
  const cache = new LixCache({ timeout: 2000, maxRetries: 1, nearCache: near === 'true' });
  const sessions = new SessionStore({
    cache,
    schema: SessionSchema,
    ttl: seconds('SESSION_TTL') ?? 3600,
    idleTimeout: seconds('SESSION_IDLE_TIMEOUT'),
    absoluteTimeout: seconds('SESSION_ABSOLUTE_TIMEOUT'),
    touchInterval: seconds('SESSION_TOUCH_INTERVAL'),
    binding: { ip: ipBinding },
    rememberMe: { ttl: seconds('REMEMBER_ME_TTL') },
  });
  return { cache, sessions };
}

/** COOKIE_SECURE, else secure in production. */
export function secureCookiesFromEnv(): boolean {
  return process.env.COOKIE_SECURE ? process.env.COOKIE_SECURE === 'true' : process.env.NODE_ENV === 'production';
}

/** TRUST_PROXY as Express's `trust proxy` takes it: true/false, a hop count, or addresses/subnets ("loopback", "10.0.0.0/8"). */
export function trustProxyFromEnv(): TrustProxy | undefined {
  const raw = process.env.TRUST_PROXY;
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}
