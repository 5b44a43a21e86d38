import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startSite, type Site } from '../../../test/helpers/browser';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { client } from './http-client';

/**
 * The attack issue 14 reproduced: a developer runs the server with its defaults
 * and opens any web page; that page, on another origin, reads every session and
 * plants a forged one. In headless Chromium against the built server.
 */
describe('a web page on another origin against a server with default settings', () => {
  let server: ServerProcess;
  let site: Site;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer();
    site = await startSite((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>any page</title>'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (server) expect(await server.stop()).toBe(0);
  });

  it('can neither scan session: keys nor set a key, and nothing is written', async () => {
    const call = client(server.url);
    await call('POST', '/cache/set', { key: 'session:victim', value: { userId: 'u1', role: 'admin' } });

    const page = await browser.newPage();
    await page.goto(site.url);
    // A string, not a function: vitest rewrites a function's source before playwright sends it.
    const outcome = (await page.evaluate(`(async (url) => {
      const attempt = (promise) => promise.then(async (r) => ({ status: r.status, body: r.type === 'opaque' ? '' : await r.text() }), (e) => ({ failed: String(e) }));
      const headers = { 'content-type': 'application/json' };
      const forged = JSON.stringify({ key: 'session:forged', value: { userId: 'attacker', role: 'admin' } });
      return {
        scan: await attempt(fetch(url + '/cache/scan?prefix=session:')),
        read: await attempt(fetch(url + '/cache/get?key=session:victim')),
        // Preflighted JSON write, and the blind no-cors write a page can always send.
        set: await attempt(fetch(url + '/cache/set', { method: 'POST', headers, body: forged })),
        blindSet: await attempt(fetch(url + '/cache/set', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: forged })),
        blindBatch: await attempt(fetch(url + '/cache/batch', { method: 'POST', mode: 'no-cors', body: JSON.stringify({ commands: [{ op: 'set', key: 'session:forged2', value: 1 }] }) })),
      };
    })(${JSON.stringify(server.url)})`)) as Record<string, { status?: number; body?: string; failed?: string }>;
    await page.close();

    // The page learns nothing: every readable attempt fails, opaque ones show nothing.
    expect(outcome.scan!.failed).toMatch(/Failed to fetch/);
    expect(outcome.read!.failed).toMatch(/Failed to fetch/);
    expect(outcome.set!.failed).toMatch(/Failed to fetch/);
    for (const blind of [outcome.blindSet!, outcome.blindBatch!]) expect(blind).toEqual({ status: 0, body: '' });
    expect(JSON.stringify(outcome)).not.toContain('victim');

    // Checked directly: nothing was written, and the server refused each request by its Origin.
    expect((await call('GET', '/cache/get?key=session:forged')).status).toBe(404);
    expect((await call('GET', '/cache/get?key=session:forged2')).status).toBe(404);
    expect((await call('GET', '/cache/stats')).body).toMatchObject({ size: 1 });
    expect((await call('GET', '/cache/get?key=session:victim')).body.value).toEqual({ userId: 'u1', role: 'admin' });
    const metrics = (await call('GET', '/metrics')).text;
    expect(metrics).toMatch(/code="origin_not_allowed"\} [4-9]/);
  });
});
