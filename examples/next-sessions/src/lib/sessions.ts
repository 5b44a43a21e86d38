import { nextSession } from 'lix-cache-session/next';
import { rememberedUser, secureCookiesFromEnv, sessionsFromEnv } from 'lix-example-shared/sessions';

/*
 * The app's sessions, made once per server process. Configuration by environment (see
 * README): LIX_CACHE_URL (http://localhost:4000), LIX_CACHE_API_KEY, COOKIE_SECURE (default:
 * true when NODE_ENV=production), TRUST_PROXY (proxies in front that append to
 * X-Forwarded-For), SESSION_TTL / SESSION_IDLE_TIMEOUT / SESSION_ABSOLUTE_TIMEOUT /
 * REMEMBER_ME_TTL (seconds), SESSION_IP_BINDING (off | exact | subnet).
 */

function hops(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '' || raw === 'false') return undefined;
  if (raw === 'true') return 1;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`TRUST_PROXY must be the number of proxies in front of the app (1, 2...); got "${raw}".`);
  return Number(raw);
}

export const { cache, sessions: store } = sessionsFromEnv();

export const secureCookies = secureCookiesFromEnv();

export const sessions = nextSession({
  store,
  cookie: { secure: secureCookies, sameSite: 'lax' },
  rememberMe: {
    loadUser: rememberedUser,
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
