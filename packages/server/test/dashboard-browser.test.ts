import { statSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { launchChromium } from '../../../test/helpers/browser';
import { screenshot, SCREENSHOTS } from '../../../test/helpers/screenshots';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { waitFor } from '../../../test/helpers/wait-for';

const KEY = 'dashboard-browser-key-0123456789';
const number = new Intl.NumberFormat('en');

/** The dashboard in headless Chromium against a real server with API keys. */
describe('dashboard in a real browser', () => {
  let server: ServerProcess;
  let cache: LixCache;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Console errors and uncaught exceptions (a CSP violation is a console error); the 401s of refused keys are expected. */
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer({ env: { LIX_API_KEYS: KEY } });
    cache = new LixCache({ url: server.url, apiKey: KEY });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 401 \(Unauthorized\)/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await cache?.close();
    await server?.stop();
  });

  const text = (selector: string) => page.locator(selector).first().textContent();
  const stat = (name: string) => text(`[data-stat="${name}"]`);

  it('asks for the API key, refuses a wrong one, keeps the right one in sessionStorage only', async () => {
    await page.goto(`${server.url}/`);
    expect(page.url()).toBe(`${server.url}/dashboard/`);
    await page.locator('#login').waitFor();
    await screenshot(page, 'dashboard-login');
    await page.fill('#api-key', '   ');
    await page.click('#login button[type=submit]');
    await waitFor(async () => (await page.locator('#login-error').textContent())?.includes('Paste one'), { what: 'the blank key refused' });
    await page.fill('#api-key', 'not-the-key');
    await page.click('#login button[type=submit]');
    await waitFor(async () => (await page.locator('#login-error').textContent())?.includes('refused'), { what: 'the refusal' });
    expect(await page.locator('#overview').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await page.fill('#api-key', KEY);
    await page.click('#login button[type=submit]');
    await page.locator('#overview').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('lix-cache-api-key'))).toBe(KEY);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await context.cookies()).toStrictEqual([]);
    expect(page.url()).not.toContain(KEY);
  });

  it("shows /cache/stats' numbers after a known workload, updating without a reload", async () => {
    for (let i = 1; i <= 30; i++) await cache.set(`user:${i}`, { name: `user ${i}`, n: i }, { ttl: 600, tags: [`team:${i % 3}`] });
    for (let i = 1; i <= 10; i++) expect(await cache.get(`user:${i}`)).not.toBeNull();
    for (let i = 1; i <= 5; i++) expect(await cache.get(`missing:${i}`)).toBeNull();
    const stats = await (await fetch(`${server.url}/cache/stats`, { headers: { authorization: `Bearer ${KEY}` } })).json();
    expect(stats.size).toBe(30);
    const expected = {
      size: number.format(stats.size),
      hits: number.format(stats.stats.hits),
      misses: number.format(stats.stats.misses),
      operations: number.format(stats.stats.operations),
      evictions: number.format(stats.stats.evictions),
      expirations: number.format(stats.stats.expirations),
      hitRate: `${new Intl.NumberFormat('en', { maximumFractionDigits: 1 }).format((stats.stats.hits / (stats.stats.hits + stats.stats.misses)) * 100)}%`,
      limit: `of ${number.format(stats.limit)} (item limit)`,
      engine: 'memory',
    };
    await waitFor(
      async () => {
        for (const [name, value] of Object.entries(expected)) if ((await stat(name)) !== value) return false;
        return true;
      },
      { timeoutMs: 10_000, what: `the dashboard to show ${JSON.stringify(expected)}` },
    );
    expect(await stat('errors')).toMatch(/^\d+$/);
    expect(await stat('persistence')).toBe('memory only');
    // Charts are drawn by uPlot into canvases, one per chart.
    expect(await page.locator('#overview .uplot canvas').count()).toBe(4);
    await screenshot(page, 'dashboard-overview');
  });

  it('key browser: finds a key by prefix, shows its value, TTL and tags, deletes it after a confirmation', async () => {
    await page.click('#tabs button[data-tab=keys]');
    await page.fill('#key-prefix', 'user:1');
    await page.click('#key-search button[type=submit]');
    await waitFor(async () => (await page.locator('#key-list button').allTextContents()).length === 11, { what: 'user:1 and user:10-19' });
    await page.click('#key-list button:text-is("user:1")');
    await waitFor(async () => (await text('#detail-key')) === 'user:1', { what: 'the detail of user:1' });
    expect(JSON.parse((await text('#detail-value'))!)).toStrictEqual({ name: 'user 1', n: 1 });
    expect(await text('#detail-tags')).toBe('team:1');
    expect(await text('#detail-ttl')).toMatch(/^\d+m \d+s \(\d+(\.\d+)? s\)$/);
    await screenshot(page, 'dashboard-keys');

    // Dismissed: nothing is deleted.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click('#detail-delete');
    expect(await cache.get('user:1')).not.toBeNull();

    page.once('dialog', (dialog) => {
      expect(dialog.message()).toContain('user:1');
      void dialog.accept();
    });
    await page.click('#detail-delete');
    await waitFor(async () => (await cache.get('user:1')) === null, { what: 'user:1 to be deleted' });
    await waitFor(async () => !(await page.locator('#key-list button').allTextContents()).includes('user:1'), { what: 'the list without user:1' });
  });

  it('pages with the scan cursor', async () => {
    await page.fill('#key-prefix', '');
    for (let i = 0; i < 60; i++) await cache.set(`page:${String(i).padStart(2, '0')}`, i);
    await page.fill('#key-prefix', 'page:');
    await page.click('#key-search button[type=submit]');
    await waitFor(async () => (await page.locator('#key-list button').count()) === 50, { what: 'a first page of 50' });
    const first = await page.locator('#key-list button').allTextContents();
    await page.click('#key-next');
    await waitFor(async () => (await page.locator('#key-list button').count()) === 10, { what: 'a second page of 10' });
    const second = await page.locator('#key-list button').allTextContents();
    expect(new Set([...first, ...second]).size).toBe(60);
    expect(await page.locator('#key-next').isHidden()).toBe(true);
  });

  it('invalidates a tag after a confirmation', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.fill('#invalidate-tag', 'team:2');
    await page.click('#invalidate button[type=submit]');
    await waitFor(async () => (await text('#invalidate-result')) === 'Deleted 10 keys tagged "team:2".', { what: 'the invalidation result' });
    expect(await cache.scan({ tag: 'team:2', keysOnly: true })).toMatchObject({ keys: [] });
  });

  it('sessions: shows SessionStore metrics, never a session id or its hash', async () => {
    const sessions = new SessionStore({ cache });
    const ids = [await sessions.create('user-1', { name: 'a' }), await sessions.create('user-1', { name: 'a' }), await sessions.create('user-2', { name: 'b' })];
    const metrics = await sessions.metrics();
    expect(metrics).toMatchObject({ totalSessions: 3, uniqueUsers: 2 });
    await page.click('#tabs button[data-tab=sessions]');
    await waitFor(async () => (await text('[data-session="totalSessions"]')) === '3', { what: 'three sessions' });
    expect(await text('[data-session="uniqueUsers"]')).toBe('2');
    expect(await text('[data-session="activeSessions"]')).toBe('3');
    expect(await text('[data-session="averageSessionLength"]')).toMatch(/^\d+s$/);
    await screenshot(page, 'dashboard-sessions');

    // The key browser lists session keys masked.
    await page.click('#tabs button[data-tab=keys]');
    await page.fill('#key-prefix', 'session:');
    await page.click('#key-search button[type=submit]');
    await waitFor(async () => (await page.locator('#key-list td').allTextContents()).some((cell) => cell.includes('session key, hidden')), { what: 'masked session keys' });
    const stored = (await cache.scan('session:', { keysOnly: true })).keys;
    expect(stored.length).toBeGreaterThanOrEqual(3);
    const html = await page.content();
    for (const secret of [...ids, ...stored.map((key) => key.slice('session:'.length))]) expect(html).not.toContain(secret);
  });

  it('signs out, and a key rotated away sends it back to the sign-in form', async () => {
    await page.click('#sign-out');
    await page.locator('#login').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.evaluate((key) => sessionStorage.setItem('lix-cache-api-key', key), 'stale-key');
    await page.reload();
    await waitFor(async () => (await page.locator('#login-error').textContent())?.includes('refused'), { what: 'the stale key refused' });
  });

  it('showed no console errors or CSP violations, and the screenshots are small', () => {
    expect(problems).toStrictEqual([]);
    for (const name of ['login', 'overview', 'keys', 'sessions']) {
      expect(statSync(`${SCREENSHOTS}dashboard-${name}.jpeg`).size).toBeLessThan(100_000);
    }
  });
});
