import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startSite, type Site } from '../../../test/helpers/browser';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { LixCache } from '../src/index';

/**
 * The built browser bundle (dist/browser.js, the package's "browser" export) in
 * headless Chromium, talking to a real server across origins (CORS, with an API
 * key, so the preflight carries Authorization). Build first: npm run build -w lix-cache-sdk.
 */
const BUNDLE = fileURLToPath(new URL('../dist/browser.js', import.meta.url));

describe('in a browser', () => {
  let server: ServerProcess;
  let site: Site;
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    bundle = readFileSync(BUNDLE, 'utf8');
    // "localhost" vs the server's 127.0.0.1: a different origin, so CORS applies.
    site = await startSite((req, res) => {
      if (req.url === '/lix.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>lix</title>');
      }
    });
    // Cross-origin access is off by default: the page's origin is listed.
    server = await startServer({ env: { LIX_AUTH_ENABLED: 'true', LIX_API_KEYS: 'browser-key', LIX_CORS_ORIGINS: site.url } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (server) expect(await server.stop()).toBe(0);
  });

  it('the bundle is one self-contained module with no Node imports', () => {
    expect(bundle).not.toMatch(/\bfrom\s*["'](ioredis|node:|lix-cache-core)/);
    expect(bundle).not.toMatch(/\brequire\(/);
    expect(bundle).not.toMatch(/class MemoryEngine|class RedisEngine/);
  });

  it('set/get round trip from a page, batched, with auth and CORS', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(site.url);
    // A string, not a function: vitest rewrites a function's source (dynamic import) before playwright sends it.
    const result = await page.evaluate(`(async (url) => {
      const { LixCache, LixAuthError } = await import('/lix.js');
      const cache = new LixCache({ url, apiKey: 'browser-key' });
      const written = await cache.set('browser:greeting', { hello: 'world' }, { ttl: 60 });
      const [value, missing, count] = await Promise.all([cache.get('browser:greeting'), cache.get('browser:missing'), cache.incr('browser:n', 2)]);
      const anonymous = new LixCache({ url });
      const authError = await anonymous.get('browser:greeting').catch((e) => e);
      let memoryError = '';
      try {
        new LixCache({ url: 'memory://' });
      } catch (e) {
        memoryError = e.code;
      }
      return { written, value, missing, count, auth: authError instanceof LixAuthError, memoryError, health: await anonymous.health() };
    })(${JSON.stringify(server.url)})`);
    expect(errors).toEqual([]);
    expect(result).toEqual({
      written: true,
      value: { hello: 'world' },
      missing: null,
      count: 2,
      auth: true,
      memoryError: 'unsupported_url',
      health: { ok: true, status: 'healthy' },
    });
    const node = new LixCache({ url: server.url, apiKey: 'browser-key' });
    expect(await node.get('browser:greeting')).toEqual({ hello: 'world' });
    await node.close();
    await page.close();
  });
});
