import { SessionStore } from 'lix-cache-session';
import { nextSession, SessionError, sessionErrorResponse } from 'lix-cache-session/next';
import { LixCache, LixConnectionError } from 'lix-cache-sdk';
import { describe, expect, it } from 'vitest';

// The parts of lix-cache-session/next that need no Next.js request scope: option checks,
// error answers and the proxy guard (which works on the Request it is given), on memory://.
// Route handlers, Server Actions and pages run in a real `next start`: examples/next-sessions/test.
let counter = 0;
const memoryStore = (options: ConstructorParameters<typeof SessionStore>[0] = {}) => new SessionStore({ cache: `memory://next-${++counter}`, ...options });

describe('nextSession options', () => {
  it('rejects bad options with a message that says how to fix them', () => {
    expect(() => nextSession(undefined as never)).toThrow(/needs an object with a SessionStore/);
    expect(() => nextSession({ store: {} as never })).toThrow(/needs a SessionStore/);
    expect(() => nextSession({ store: memoryStore(), trustProxy: 0 })).toThrow(/trustProxy is the number of proxies.*got 0/);
    expect(() => nextSession({ store: memoryStore(), trustProxy: 1.5 })).toThrow(/trustProxy/);
    expect(() => nextSession({ store: memoryStore(), clientIp: 'x-real-ip' as never })).toThrow(/clientIp must be a function/);
    expect(() => nextSession({ store: memoryStore(), csrf: { header: '' } })).toThrow(/"header" must be a header name/);
    expect(() => nextSession({ store: memoryStore(), cookie: { secure: false, sameSite: 'none' } })).toThrow(/sameSite 'none' needs secure/);
  });

  it('needs a way to the client IP when the store binds sessions to it', () => {
    const bound = () => memoryStore({ binding: { ip: 'exact' } });
    expect(() => nextSession({ store: bound() })).toThrow(/Next\.js does not expose the client's address.*trustProxy: 1/);
    expect(() => nextSession({ store: bound(), trustProxy: 1 })).not.toThrow();
    expect(() => nextSession({ store: bound(), clientIp: (headers) => headers.get('x-real-ip') ?? undefined })).not.toThrow();
  });

  it('rejects a route handler that is not a function, and a login path off this site', async () => {
    const sessions = nextSession({ store: memoryStore(), cookie: { secure: false } });
    expect(() => sessions.route('nope' as never)).toThrow(/handler must be a function/);
    const request = new Request('http://app.test/account');
    await expect(sessions.guard(request, { loginPath: 'https://evil.example/login' })).rejects.toThrow(/loginPath must be a path on this site/);
    await expect(sessions.guard(request, { loginPath: '//evil.example' })).rejects.toThrow(/loginPath/);
  });
});

describe('session error answers', () => {
  it('answers 503 with Retry-After for cache errors, and leaves other errors alone', async () => {
    const response = sessionErrorResponse(new LixConnectionError('connect ECONNREFUSED'));
    expect(response?.status).toBe(503);
    expect(response?.headers.get('retry-after')).toBe('5');
    expect(await response?.json()).toMatchObject({ error: 'Session store unavailable' });
    expect(sessionErrorResponse(new Error('boom'))).toBeUndefined();
    const failed = new SessionError({ status: 500, headers: {}, body: { error: 'Session not saved', message: 'The session could not be saved.' } });
    expect(failed.toResponse().status).toBe(500);
    expect(sessionErrorResponse(failed)?.status).toBe(500);
  });
});

describe('sessions.guard', () => {
  async function signedIn(rememberMe = false) {
    const store = new SessionStore<{ username: string }>({ cache: `memory://next-${++counter}` });
    const sessions = nextSession({
      store,
      cookie: { secure: false },
      rememberMe: { loadUser: (userId) => (userId === 'user-1' ? { username: 'alice' } : null) },
      trustProxy: 1,
    });
    const { id } = await store.open('user-1', { username: 'alice' }, { ip: '203.0.113.7' });
    const remember = rememberMe ? await store.issueRememberToken('user-1', id) : undefined;
    return { store, sessions, id, remember };
  }

  it('redirects a visitor without a session to the login path with the path asked for', async () => {
    const { sessions } = await signedIn();
    const response = await sessions.guard(new Request('http://app.test/account/settings?tab=2'), { loginPath: '/login' });
    expect(response.status).toBe(307);
    const location = new URL(response.headers.get('location')!);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('next')).toBe('/account/settings?tab=2');
    const post = await sessions.guard(new Request('http://app.test/account', { method: 'POST' }), { loginPath: '/login', returnTo: false });
    expect(post.status).toBe(303);
    expect(new URL(post.headers.get('location')!).search).toBe('');
  });

  it('answers 401 JSON without a login path, and clears a stale session cookie', async () => {
    const { sessions } = await signedIn();
    const response = await sessions.guard(new Request('http://app.test/api/private', { headers: { cookie: 'lix.sid=gone' } }));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'Not authenticated' });
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^lix\.sid=; Max-Age=0/)]);
  });

  it('lets a signed-in request through unchanged', async () => {
    const { sessions, id } = await signedIn();
    const response = await sessions.guard(new Request('http://app.test/account', { headers: { cookie: `lix.sid=${id}` } }), { loginPath: '/login' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-middleware-next')).toBe('1');
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('signs a remembered user in and hands the new session cookie on to the page', async () => {
    const { sessions, store, remember } = await signedIn(true);
    const request = new Request('http://app.test/account', { headers: { cookie: `theme=dark; prefs={"a":1}; lix.remember=${remember}`, 'x-forwarded-for': '198.51.100.1, 203.0.113.9' } });
    const response = await sessions.guard(request, { loginPath: '/login' });
    expect(response.headers.get('x-middleware-next')).toBe('1');
    const newId = /^lix\.sid=([^;]+)/.exec(response.headers.getSetCookie().find((line) => line.startsWith('lix.sid='))!)![1]!;
    // Next.js passes x-middleware-request-* headers on to the page as its request headers.
    const forwarded = response.headers.get('x-middleware-request-cookie')!;
    expect(forwarded).toContain('theme=dark; prefs={"a":1}; '); // other cookies passed on as they came
    expect(forwarded).toContain(`lix.sid=${newId}`);
    expect(forwarded).not.toContain(`lix.remember=${remember}`); // rotated
    // The address the trusted proxy saw (trustProxy: 1, the rightmost entry).
    expect((await store.list('user-1')).map((device) => device.lastIP)).toContain('203.0.113.9');
  });

  it('answers 503 when the cache is down and the request carries a session cookie', async () => {
    const store = new SessionStore({ cache: new LixCache({ url: 'http://127.0.0.1:9', timeout: 500, maxRetries: 0 }) });
    const sessions = nextSession({ store, cookie: { secure: false } });
    // A well-formed id (malformed ones are turned away without asking the cache).
    const { id } = await memoryStore().open('user-1', {});
    const response = await sessions.guard(new Request('http://app.test/account', { headers: { cookie: `lix.sid=${id}` } }), { loginPath: '/login' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
  });
});
