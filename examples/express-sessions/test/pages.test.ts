import { statSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../test/helpers/browser';
import { screenshot as saveScreenshot } from '../../../test/helpers/screenshots';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { startExample, type ExampleProcess } from './example-process';

// The HTML pages in a real browser (headless Chromium): sign in with remember-me, the
// profile, the device list with this device marked, revoking another device (which is then
// signed out), logging out, and logging out everywhere. No page may log a console error or
// a Content-Security-Policy violation. A screenshot of each page goes to
// test-output/screenshots/example-<page>.jpeg (at the repo root, git-ignored).

const VIEWPORT = { width: 900, height: 600 };
const CSP = "default-src 'none';style-src 'self';img-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'";

let server: ServerProcess;
let app: ExampleProcess;
let browser: Browser;
/** Console errors, CSP violations and uncaught errors of every page, as `<page>: <text>`. */
const problems: string[] = [];

beforeAll(async () => {
  server = await startServer();
  [app, browser] = await Promise.all([startExample(server.url), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await server?.stop();
});

async function open(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  // A CSP violation is reported on the console as an error ("Refused to load ...").
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${name}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`));
  return { context, page };
}

function pathOf(page: Page): string {
  const url = new URL(page.url());
  return url.pathname + url.search;
}

/** A screenshot of the viewport, small enough to keep. */
async function screenshot(page: Page, name: string): Promise<void> {
  const path = await saveScreenshot(page, `example-${name}`);
  expect(statSync(path).size, path).toBeLessThan(100_000);
}

/** Submit the login form; resolves with the response to the POST. */
async function signIn(page: Page, fields: { username: string; password: string; deviceName: string; rememberMe?: boolean }) {
  await page.fill('input[name=username]', fields.username);
  await page.fill('input[name=password]', fields.password);
  await page.fill('input[name=deviceName]', fields.deviceName);
  await page.setChecked('input[name=rememberMe]', fields.rememberMe ?? false);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
    page.click('form.card button[type=submit]'),
  ]);
  await page.waitForLoadState();
  return response;
}

/** Click a button or link that leads to another page, and wait until it is there. */
async function follow(page: Page, selector: string, to: string | RegExp): Promise<void> {
  await Promise.all([page.waitForURL(typeof to === 'string' ? `${app.url}${to}` : to), page.click(selector)]);
}

async function cookieNames(context: BrowserContext): Promise<string[]> {
  return (await context.cookies(app.url)).map((cookie) => cookie.name).sort();
}

describe('the example pages in a browser', () => {
  it('login → profile → devices → revoke the other device (it is signed out) → log out everywhere', async () => {
    const laptop = await open('laptop');
    const phone = await open('phone');
    const a = laptop.page;
    const b = phone.page;

    // / sends a visitor to the login page, which has the security headers and the stylesheet.
    await a.goto(`${app.url}/`);
    expect(pathOf(a)).toBe('/login');
    const loginResponse = await a.goto(`${app.url}/login`);
    expect(loginResponse!.headers()).toMatchObject({
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    expect(await a.locator('body').evaluate((body) => getComputedStyle(body).margin)).toBe('0px'); // style.css applied
    await screenshot(a, 'login');

    // A wrong password: 401, the form again with what was typed (not the password) and an error.
    const wrong = await signIn(a, { username: 'alice', password: 'not-her-password', deviceName: 'Laptop', rememberMe: true });
    expect(wrong.status()).toBe(401);
    expect(await a.locator('p.error').textContent()).toBe('Wrong username or password.');
    expect(await a.inputValue('input[name=username]')).toBe('alice');
    expect(await a.inputValue('input[name=password]')).toBe('');
    expect(await a.inputValue('input[name=deviceName]')).toBe('Laptop');
    expect(await a.isChecked('input[name=rememberMe]')).toBe(true);
    // Chromium reports the page's own 401 on the console; that one is expected, and only that one.
    expect(problems.splice(0)).toEqual(['laptop: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    await screenshot(a, 'login-error');

    // The laptop signs in with remember-me, the phone without.
    await a.fill('input[name=password]', 'wonderland');
    await Promise.all([a.waitForURL(`${app.url}/profile`), a.click('form.card button[type=submit]')]);
    expect(await a.locator('h1').textContent()).toBe('Hello, alice');
    expect(await a.locator('.facts').textContent()).toContain('alice@example.com');
    expect(await cookieNames(laptop.context)).toEqual(['lix.remember', 'lix.sid']);
    await screenshot(a, 'profile');

    await b.goto(`${app.url}/login`);
    expect((await signIn(b, { username: 'alice', password: 'wonderland', deviceName: 'Phone' })).status()).toBe(303);
    expect(pathOf(b)).toBe('/profile');
    expect(await cookieNames(phone.context)).toEqual(['lix.sid']);

    // Both devices are listed; the laptop's is marked and has no Revoke button.
    await follow(a, 'main a[href="/devices"]', '/devices');
    const devices = a.locator('li.device');
    expect(await devices.count()).toBe(2);
    const current = a.locator('li.device.current');
    expect(await current.locator('strong').textContent()).toBe('Laptop');
    expect(await current.locator('.badge').textContent()).toBe('this device');
    expect(await current.locator('button').count()).toBe(0);
    const other = a.locator('li.device:not(.current)');
    expect(await other.locator('strong').textContent()).toBe('Phone');
    await screenshot(a, 'devices');

    await follow(a, 'li.device:not(.current) button:text("Revoke")', `/devices?notice=revoked`);
    expect(await a.locator('p.notice').textContent()).toBe('Session revoked: that device is signed out.');
    expect(await a.locator('li.device').count()).toBe(1);
    await screenshot(a, 'devices-revoked');

    // The phone is signed out: its next page is the login page, and its cookie is gone.
    await b.reload();
    expect(pathOf(b)).toBe('/login');
    expect(await cookieNames(phone.context)).not.toContain('lix.sid');

    // Log out everywhere: the laptop's session and its remember-me cookie end too.
    await follow(a, 'button:text("Log out everywhere")', `/login?notice=logged-out-all`);
    expect(await a.locator('p.notice').textContent()).toBe('You are logged out on every device.');
    expect(await cookieNames(laptop.context)).toEqual([]);
    await screenshot(a, 'logged-out-everywhere');
    await a.goto(`${app.url}/profile`);
    expect(pathOf(a)).toBe('/login');

    await laptop.context.close();
    await phone.context.close();
    expect(problems).toEqual([]);
  });

  it('log out: the button in the header ends the session; the profile then sends to the login page', async () => {
    const { context, page } = await open('bob');
    await page.goto(`${app.url}/login`);
    await signIn(page, { username: 'bob', password: 'builder', deviceName: 'Desktop' });
    expect(pathOf(page)).toBe('/profile');
    await follow(page, 'header button:text("Log out")', '/login?notice=logged-out');
    expect(await page.locator('p.notice').textContent()).toBe('You are logged out.');
    expect(await cookieNames(context)).toEqual([]);
    await page.goto(`${app.url}/profile`);
    expect(pathOf(page)).toBe('/login');
    await context.close();
    expect(problems).toEqual([]);
  });
});
