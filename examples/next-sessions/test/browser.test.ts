import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../test/helpers/browser';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { BUILD_TIMEOUT_MS, startExample, type ExampleProcess } from './example-process';

// The pages in a real browser (headless Chromium): the proxy guard's redirect, the login form's
// Server Action (sessions.get() and login(), cookies set through cookies().set) and the
// Server Component behind the guard (sessions.read()).
let server: ServerProcess;
let app: ExampleProcess;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  [app, browser] = await Promise.all([startExample(server.url), launchChromium()]);
}, BUILD_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await server?.stop();
});

describe('the Next.js example in a browser', () => {
  it('sends a visitor to /login, signs in with the Server Action, and comes back to /account', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/account`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/account');

    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'not-her-password');
    await Promise.all([page.waitForURL(/error=1/), page.click('button[type=submit]')]);
    expect(await page.locator('main p[role=alert]').textContent()).toBe('Invalid credentials');

    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'wonderland');
    await Promise.all([page.waitForURL(`${app.url}/account`), page.click('button[type=submit]')]);
    expect(await page.getByTestId('username').textContent()).toBe('Signed in as alice');

    const [cookie] = (await context.cookies(app.url)).filter((c) => c.name === 'lix.sid');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    // The browser's session is a real one: the API answers it too.
    const profile = await page.evaluate(async () => (await fetch('/api/profile')).json());
    expect(profile).toMatchObject({ username: 'alice' });
    await context.close();
  });
});
