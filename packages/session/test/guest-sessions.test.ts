import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { SessionStore } from 'lix-cache-session';
import { csrfProtection, lixSession } from 'lix-cache-session/express';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieClient, cookieAttributes } from '../../../test/helpers/cookie-jar';

// Guest sessions through the Express middleware, in-process over real HTTP, on memory://.
const servers: Server[] = [];
let counter = 0;
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

type Guest = Record<string, unknown> & { csrfToken: string };

async function guestApp(options: { keep?: string[]; guest?: boolean } = {}) {
  const sessions = new SessionStore({ cache: `memory://guests-${++counter}` });
  const app = express();
  app.use(express.json());
  app.use(lixSession({ store: sessions, cookie: { secure: false }, guest: options.guest === false ? false : { keep: options.keep ?? ['cart'] } }));
  app.use(csrfProtection());
  app.get('/state', (req, res) => {
    const guest = req.guest as Guest | undefined;
    res.json({ signedIn: Boolean(req.session), session: req.session ?? null, guest: guest ?? null, csrfToken: req.session?.csrfToken ?? guest?.csrfToken });
  });
  app.post('/cart', (req, res) => {
    const bag = (req.session ?? req.guest) as Record<string, unknown>;
    bag.cart = [...((bag.cart as string[] | undefined) ?? []), String(req.body.item)];
    res.json({ cart: bag.cart });
  });
  app.post('/theme', (req, res) => {
    (req.guest as Record<string, unknown>).theme = req.body.theme;
    res.json({ ok: true });
  });
  app.post('/login', async (req, res) => {
    const session = await req.login({ userId: 'user-1', name: 'Alice' } as never);
    res.json({ csrfToken: session.csrfToken });
  });
  app.post('/logout', async (req, res) => {
    await req.logout();
    res.json({ guest: req.guest ?? null });
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sessions };
}

describe('guest sessions', () => {
  it('are off by default: no req.guest', async () => {
    const { url } = await guestApp({ guest: false });
    const state = await new CookieClient(url).get('/state');
    expect(state.body.guest).toBeNull();
  });

  it('are stored only once a request writes to them (saveUninitialized: false)', async () => {
    const { url, sessions } = await guestApp();
    const client = new CookieClient(url);
    const read = await client.get('/state');
    expect(read.body.guest).toEqual({ csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(read.setCookies).toEqual([]);
    expect((await sessions.metrics()).totalSessions).toBe(0);

    const write = await client.post('/cart', { item: 'apple' });
    expect(write.body.cart).toEqual(['apple']);
    const cookie = cookieAttributes(write.setCookies, 'lix.guest')!;
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie.httponly).toBe(true);
    expect(cookie.samesite).toBe('Lax');
    // The guest is no user session: it appears in no metrics and no device list.
    expect((await sessions.metrics()).totalSessions).toBe(0);
    expect(await sessions.getGuest(String(cookie.value))).toEqual({ data: { cart: ['apple'] }, csrfToken: expect.any(String) });
  });

  it('keep their data across requests and need their CSRF token once saved', async () => {
    const { url } = await guestApp();
    const client = new CookieClient(url);
    expect((await client.post('/cart', { item: 'apple' }, { csrf: false })).status).toBe(200); // no session yet: nothing to forge
    const token = (await client.get('/state')).body.csrfToken as string;
    expect((await client.post('/cart', { item: 'pear' }, { csrf: false })).status).toBe(403);
    expect((await client.post('/cart', { item: 'pear' }, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await client.post('/cart', { item: 'pear' }, { csrf: token })).body.cart).toEqual(['apple', 'pear']);
    expect((await client.get('/state')).body.guest).toEqual({ cart: ['apple', 'pear'], csrfToken: token });
  });

  it('carry the kept fields into the session at login, under a new id, and drop the rest', async () => {
    const { url, sessions } = await guestApp({ keep: ['cart'] });
    const client = new CookieClient(url);
    await client.post('/cart', { item: 'apple' });
    client.csrfToken = (await client.get('/state')).body.csrfToken;
    await client.post('/theme', { theme: 'dark' });
    const guestId = client.cookies.get('lix.guest')!;
    const stolen = client.clone();

    const login = await client.post('/login');
    expect(login.status).toBe(200);
    expect(cookieAttributes(login.setCookies, 'lix.guest')!['max-age']).toBe('0');
    const sessionId = cookieAttributes(login.setCookies, 'lix.sid')!.value;
    expect(sessionId).not.toBe(guestId);
    const state = await client.get('/state');
    expect(state.body.signedIn).toBe(true);
    expect(state.body.guest).toBeNull();
    expect(state.body.session).toMatchObject({ userId: 'user-1', name: 'Alice', cart: ['apple'] });
    expect(state.body.session.theme).toBeUndefined();
    // The guest session is gone: its cookie no longer carries anything.
    expect(await sessions.getGuest(guestId)).toBeNull();
    expect((await stolen.get('/state')).body.guest).toEqual({ csrfToken: expect.any(String) });
  });

  it('restart as an empty, unsaved guest after logout', async () => {
    const { url } = await guestApp();
    const client = new CookieClient(url);
    await client.post('/cart', { item: 'apple' });
    client.csrfToken = (await client.get('/state')).body.csrfToken;
    await client.post('/login');
    const logout = await client.post('/logout');
    expect(logout.body.guest).toEqual({ csrfToken: expect.any(String) });
    expect(cookieAttributes(logout.setCookies, 'lix.guest')).toBeUndefined();
    expect((await client.get('/state')).body).toMatchObject({ signedIn: false, guest: { csrfToken: expect.any(String) } });
  });

  it('refuse a bad guest option and managed fields', async () => {
    const store = new SessionStore({ cache: 'memory://guests-options' });
    expect(() => lixSession({ store, guest: 'yes' as never })).toThrow(/"guest" must be true, false or \{ keep: \['cart'\] \}/);
    expect(() => lixSession({ store, guest: { keep: [1] as never } })).toThrow(/guest.keep must be an array of field names/);
    await expect(store.createGuest({ csrfToken: 'x' })).rejects.toThrow(/"csrfToken" is managed by the store/);
    await expect(store.updateGuest('A'.repeat(43), { userId: 'x' })).rejects.toThrow(/"userId" is managed by the store/);
    expect(await store.getGuest('not-a-token')).toBeNull();
  });
});
