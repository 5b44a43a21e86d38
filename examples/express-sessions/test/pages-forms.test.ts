import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../../../test/helpers/cookie-jar';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { startExample, type ExampleProcess } from './example-process';

// The pages over plain HTTP, where a browser cannot go: forged and cross-site forms, escaping,
// another user's device, the JSON API left as it was, and the cache going down.
// (test/pages.test.ts clicks through them in Chromium.)

let server: ServerProcess | undefined;
let app: ExampleProcess;

beforeAll(async () => {
  server = await startServer();
  app = await startExample(server.url);
});

afterAll(async () => {
  await app?.stop();
  await server?.stop();
});

interface PageResponse {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
  setCookies: string[];
}

/** The Cookie header of a CookieClient's jar. */
const cookieHeader = (client: CookieClient) => [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');

/** A form post (urlencoded), as a browser sends it from one of the pages; no redirect followed. */
async function postForm(path: string, fields: Record<string, string>, { client, headers = {} }: { client?: CookieClient; headers?: Record<string, string> } = {}): Promise<PageResponse> {
  const response = await fetch(app.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...(client ? { cookie: cookieHeader(client) } : {}), ...headers },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
  return { status: response.status, location: response.headers.get('location'), body: await response.text(), headers: response.headers, setCookies: response.headers.getSetCookie() };
}

async function getPage(path: string, client?: CookieClient): Promise<PageResponse> {
  const response = await fetch(app.url + path, { headers: client ? { cookie: cookieHeader(client) } : {}, redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), body: await response.text(), headers: response.headers, setCookies: response.headers.getSetCookie() };
}

async function signIn(username: string, password: string, deviceName?: string): Promise<CookieClient> {
  const client = new CookieClient(app.url);
  expect((await client.post('/api/login', { username, password, deviceName })).status).toBe(200);
  return client;
}

describe('the example pages over HTTP', () => {
  it('the login form signs in (303 to /profile, with remember-me when ticked); a wrong password gets 401 and the form, escaped', async () => {
    const ok = await postForm('/login', { username: 'alice', password: 'wonderland', deviceName: 'Form', rememberMe: 'on' });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe('/profile');
    expect(ok.setCookies.map((line) => line.split('=')[0]).sort()).toEqual(['lix.remember', 'lix.sid']);

    const wrong = await postForm('/login', { username: '"><img src=x>', password: 'nope', deviceName: '<b>Phone</b>' });
    expect(wrong.status).toBe(401);
    expect(wrong.setCookies).toEqual([]);
    expect(wrong.headers.get('content-type')).toMatch(/^text\/html/);
    expect(wrong.body).toContain('Wrong username or password.');
    expect(wrong.body).toContain('value="&quot;&gt;&lt;img src=x&gt;"');
    expect(wrong.body).toContain('value="&lt;b&gt;Phone&lt;/b&gt;"');
    expect(wrong.body).not.toContain('<img');
  });

  it('a login form sent from another site (Sec-Fetch-Site: cross-site) is refused with 403 and no cookie', async () => {
    const forged = await postForm('/login', { username: 'alice', password: 'wonderland' }, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(forged.status).toBe(403);
    expect(forged.setCookies).toEqual([]);
  });

  it('the device list escapes device names; ?notice= shows fixed messages only', async () => {
    const alice = await signIn('alice', 'wonderland', '<script>alert(1)</script>');
    const devices = await getPage('/devices', alice);
    expect(devices.status).toBe(200);
    expect(devices.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(devices.body).not.toContain('<script');
    const notice = await getPage('/devices?notice=%3Cscript%3Ex', alice);
    expect(notice.body).not.toContain('class="notice"');
  });

  it('log out and log out everywhere need the csrfToken field: missing or wrong gets 403 and the session stays', async () => {
    const alice = await signIn('alice', 'wonderland');
    for (const path of ['/logout', '/logout-all']) {
      expect((await postForm(path, {}, { client: alice })).status).toBe(403);
      expect((await postForm(path, { csrfToken: 'x'.repeat(43) }, { client: alice })).status).toBe(403);
    }
    expect((await alice.get('/api/profile')).status).toBe(200);
    const out = await postForm('/logout', { csrfToken: alice.csrfToken! }, { client: alice });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/login?notice=logged-out');
    expect((await alice.get('/api/profile')).status).toBe(401);
  });

  it("revoking another user's device is not found, and that session lives on; without a session the pages send to /login", async () => {
    const bob = await signIn('bob', 'builder', 'Bob laptop');
    const [bobs] = (await bob.get('/api/sessions')).body.sessions as { id: string }[];
    const alice = await signIn('alice', 'wonderland');
    const revoke = await postForm(`/devices/${encodeURIComponent(bobs!.id)}/revoke`, { csrfToken: alice.csrfToken! }, { client: alice });
    expect(revoke.status).toBe(303);
    expect(revoke.location).toBe('/devices?notice=not-found');
    expect((await bob.get('/api/profile')).status).toBe(200);

    for (const path of ['/profile', '/devices']) expect((await getPage(path)).location).toBe('/login');
    expect((await getPage('/')).location).toBe('/login');
    expect((await getPage('/', alice)).location).toBe('/profile');
    expect((await postForm(`/devices/${encodeURIComponent(bobs!.id)}/revoke`, {})).location).toBe('/login');
  });

  it('the pages carry the security headers; the JSON API does not, and still takes JSON only', async () => {
    const page = await getPage('/login');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none';style-src 'self';img-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('strict-transport-security')).toBeNull(); // plain HTTP here (COOKIE_SECURE=false)
    const css = await getPage('/static/style.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('x-content-type-options')).toBe('nosniff');

    const api = await new CookieClient(app.url).get('/api/profile');
    expect(api.headers.get('content-security-policy')).toBeNull();
    const form = await postForm('/api/login', { username: 'alice', password: 'wonderland' });
    expect(form.status).toBe(401); // the API parses JSON bodies only
  });

  it('with the cache down: a page with a session answers 503; the login page without one still renders', async () => {
    const alice = await signIn('alice', 'wonderland');
    await server!.stop();
    server = undefined;
    expect((await getPage('/profile', alice)).status).toBe(503);
    const login = await getPage('/login');
    expect(login.status).toBe(200);
    expect(login.body).toContain('<form method="post" action="/login"');
  });
});
