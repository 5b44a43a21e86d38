import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { nextSession } from 'lix-cache-session/next';
import { z } from 'zod';
import { loadUser, type User } from './users';

/*
 * The app's sessions, made once per server process. Configuration by environment (see
 * README): LIX_CACHE_URL (http://localhost:4000), LIX_CACHE_API_KEY, COOKIE_SECURE (default:
 * true when NODE_ENV=production), TRUST_PROXY (proxies in front that append to
 * X-Forwarded-For), SESSION_TTL / SESSION_IDLE_TIMEOUT / SESSION_ABSOLUTE_TIMEOUT /
 * REMEMBER_ME_TTL (seconds), SESSION_IP_BINDING (off | exact | subnet).
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

function seconds(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds; got "${raw}".`);
  return value;
}

function hops(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '' || raw === 'false') return undefined;
  if (raw === 'true') return 1;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`TRUST_PROXY must be the number of proxies in front of the app (1, 2...); got "${raw}".`);
  return Number(raw);
}

const ipBinding = process.env.SESSION_IP_BINDING ?? 'off';
if (ipBinding !== 'off' && ipBinding !== 'exact' && ipBinding !== 'subnet') throw new Error(`SESSION_IP_BINDING must be off, exact or subnet; got "${ipBinding}".`);

export const cache = new LixCache({ timeout: 2000, maxRetries: 1 });

export const store = new SessionStore({
  cache,
  schema: SessionSchema,
  ttl: seconds('SESSION_TTL') ?? 3600,
  idleTimeout: seconds('SESSION_IDLE_TIMEOUT'),
  absoluteTimeout: seconds('SESSION_ABSOLUTE_TIMEOUT'),
  binding: { ip: ipBinding },
  rememberMe: { ttl: seconds('REMEMBER_ME_TTL') },
});

export function sessionDataOf(user: User) {
  return { userId: user.id, username: user.username, email: user.email, roles: user.roles };
}

export const secureCookies = process.env.COOKIE_SECURE ? process.env.COOKIE_SECURE === 'true' : process.env.NODE_ENV === 'production';

export const sessions = nextSession({
  store,
  cookie: { secure: secureCookies, sameSite: 'lax' },
  rememberMe: {
    loadUser: (userId) => {
      const user = loadUser(userId);
      return user ? sessionDataOf(user) : null;
    },
  },
  // Guests get a cart and a theme before login; the cart moves into the session at login.
  guest: { keep: ['cart'] },
  trustProxy: hops(process.env.TRUST_PROXY),
});

export const notAuthenticated = () => Response.json({ error: 'Not authenticated' }, { status: 401 });

/** The JSON body as an object (an empty one when missing or not JSON). */
export async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const body: unknown = await request.json().catch(() => undefined);
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}
