import { beforeAll, expect } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';
import { describeSessionRoutes } from '../../../test/session-security/routes-table';
import { BUILD_TIMEOUT_MS, buildExample, startExample } from './example-process';

// `next build` first, under its own timeout (a cold build takes over a minute), so that the
// table's own beforeAll only starts `next start`.
beforeAll(() => buildExample(), BUILD_TIMEOUT_MS);

// The shared route contract table (test/session-security/routes-table.ts), against this app,
// plus what only a Next.js app has: the proxy guard of the /account pages. Not registered here:
// - writeDelay: the route handlers have no EXAMPLE_WRITE_DELAY_MS, so the parallel-write and
//   revoked-in-flight rows cannot make requests overlap;
// - peerAddress: Next exposes no peer address to route handlers (lastIP comes from
//   X-Forwarded-For only, under TRUST_PROXY);
// - jsonNotFound: unknown routes get Next's own 404 page.
// TRUST_PROXY here is a hop count (src/lib/sessions.ts), not Express's `trust proxy` syntax.
describeSessionRoutes('next', startExample, {
  capabilities: { writeDelay: false, peerAddress: false, jsonNotFound: false },
  trustProxy: '1',
  rows: [
    {
      // Express, Fastify and Hono answer 200 with a token here (their adapters hand an unsaved
      // guest a token); Next's route answers from rs.csrfToken, undefined until a guest is saved.
      title: 'next: a visitor with nothing stored gets 401 from /api/csrf-token (nothing to protect yet)',
      async run({ app }) {
        const visitor = new CookieClient(app.url);
        expect((await visitor.get('/api/csrf-token')).status).toBe(401);
        expect(visitor.cookies.size).toBe(0);
      },
    },
    {
      title: 'next: the proxy guards /account: a redirect to /login?next= without a session (a stale cookie cleared), the page with one',
      async run({ app, signIn }) {
        const visitor = new CookieClient(app.url);
        const redirect = await visitor.get('/account/settings?tab=2');
        expect(redirect.status).toBe(307);
        const location = new URL(redirect.headers.get('location')!, app.url);
        expect(location.pathname).toBe('/login');
        expect(location.searchParams.get('next')).toBe('/account/settings?tab=2');
        expect((await visitor.get('/login')).status).toBe(200);

        visitor.cookies.set('lix.sid', 'not-a-session');
        const stale = await visitor.get('/account');
        expect(stale.status).toBe(307);
        expect(cookieAttributes(stale.setCookies, 'lix.sid')).toMatchObject({ 'max-age': '0' });

        const bob = await signIn('bob');
        const page = await fetch(`${app.url}/account`, { headers: { cookie: `lix.sid=${bob.cookies.get('lix.sid')}` }, redirect: 'manual' });
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('Signed in as <!-- -->bob');
      },
    },
    {
      title: 'next: with only a remember-me cookie the proxy signs the user in again and hands the new session on to the page in the same request',
      async run({ app, signIn }) {
        const alice = await signIn('alice', { rememberMe: true });
        const token = alice.cookies.get('lix.remember')!;
        expect(token).toBeTruthy();
        const page = await fetch(`${app.url}/account`, { headers: { cookie: `lix.remember=${token}` }, redirect: 'manual' });
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('Signed in as <!-- -->alice');
        const set = page.headers.getSetCookie();
        expect(cookieAttributes(set, 'lix.sid')).toMatchObject({ httponly: true, path: '/' });
        expect(cookieAttributes(set, 'lix.remember')?.value).not.toBe(token); // rotated
      },
    },
  ],
  // The guarded page needs the store too: 503, never a redirect as if signed out.
  async whileCacheDown({ signedIn }) {
    const response = await signedIn.get('/account');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'Session store unavailable' });
    expect(response.headers.get('retry-after')).toBe('5');
  },
});
