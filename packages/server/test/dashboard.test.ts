import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';
import { DASHBOARD_ASSETS } from '../src/dashboard';
import { send } from './http-client';

const KEY = 'dashboard-test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

describe('dashboard: served pages', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env: { LIX_API_KEYS: KEY } });
  });
  afterAll(() => server.stop());

  it('/ redirects to /dashboard/, which serves the page without a key', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard/');
    for (const path of ['/dashboard/', '/dashboard']) {
      const page = await fetch(`${server.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toContain('<title>Lix Cache dashboard</title>');
    }
  });

  it('sends a strict CSP and no-framing headers; the page has no inline script or style', async () => {
    const page = await fetch(`${server.url}/dashboard/`);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    // Every script has a src on this origin; no <style> element, no style or on* attribute.
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((match) => match[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) expect(attributes).toMatch(/\bsrc="\/dashboard\/assets\/[^"]+\.js"/);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });

  it('serves the built assets, hashed and cacheable, from this origin only', async () => {
    const html = readFileSync(`${DASHBOARD_ASSETS}index.html`, 'utf8');
    const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.some((path) => path.endsWith('.js'))).toBe(true);
    expect(assets.some((path) => path.endsWith('.css'))).toBe(true);
    for (const path of assets) {
      const asset = await fetch(`${server.url}${path}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect(await asset.text()).not.toMatch(/\bhttps?:\/\/(cdn|unpkg|fonts)\./);
    }
    expect((await fetch(`${server.url}/dashboard/assets/nothing.js`)).status).toBe(404);
    const escape = await send(server.port, 'GET', '/dashboard/..%2f..%2fpackage.json', {});
    expect(escape.status).toBe(404);
    expect(JSON.stringify(escape.body)).not.toContain('lix-cache-server');
  });

  it('keeps the data behind the API key: /cache/info and /cache/stats answer 401 without it', async () => {
    for (const path of ['/cache/info', '/cache/stats', '/cache/scan?prefix=']) {
      expect((await fetch(`${server.url}${path}`)).status).toBe(401);
      expect((await fetch(`${server.url}${path}`, { headers: auth })).status).toBe(200);
    }
  });

  it('keeps the Host check on the pages', async () => {
    const noAuth = await startServer();
    try {
      expect((await send(noAuth.port, 'GET', '/dashboard/', { host: `attacker.example:${noAuth.port}` })).status).toBe(403);
      expect((await fetch(`${noAuth.url}/dashboard/`)).status).toBe(200);
    } finally {
      await noAuth.stop();
    }
  });
});

describe('dashboard: off unless enabled on a non-loopback address', () => {
  it('is off on 0.0.0.0 and says how to turn it on; LIX_DASHBOARD=true turns it on', async () => {
    const off = await startServer({ env: { HOST: '0.0.0.0', LIX_API_KEYS: KEY } });
    try {
      for (const path of ['/', '/dashboard/']) {
        const response = await fetch(`${off.url}${path}`, { redirect: 'manual', headers: auth });
        expect(response.status).toBe(404);
        expect((await response.json()).error).toMatch(/dashboard is off.*LIX_DASHBOARD=true/);
      }
    } finally {
      await off.stop();
    }
    const on = await startServer({ env: { HOST: '0.0.0.0', LIX_API_KEYS: KEY, LIX_DASHBOARD: 'true' } });
    try {
      expect((await fetch(`${on.url}/dashboard/`)).status).toBe(200);
      expect((await fetch(`${on.url}/cache/info`)).status).toBe(401);
    } finally {
      await on.stop();
    }
  });

  it('--dashboard false turns it off on loopback', async () => {
    const server = await startServer({ args: ['--dashboard', 'false'] });
    try {
      expect((await fetch(`${server.url}/dashboard/`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});

describe('GET /cache/info and get with tags', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.stop());

  const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('counts commands by op and errors by code since start', async () => {
    const before = await (await fetch(`${server.url}/cache/info`)).json();
    await post('/cache/set', { key: 'i:1', value: 1 });
    await post('/cache/set', { key: 'i:2', value: 2 });
    await fetch(`${server.url}/cache/get?key=i:1`);
    await post('/cache/batch', { operations: [{ op: 'get', key: 'i:2' }, { op: 'delete', key: 'i:2' }] });
    await post('/cache/incr', { key: 'i:1', amount: 'x' });
    const info = await (await fetch(`${server.url}/cache/info`)).json();
    expect(info).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), store: 'memory://', persistence: { kind: 'none' }, health: { ok: true }, auth: false });
    expect(info.uptime).toBeGreaterThan(0);
    expect(info.operations.set - before.operations.set).toBe(2);
    expect(info.operations.get - before.operations.get).toBe(2);
    expect(info.operations.delete - before.operations.delete).toBe(1);
    expect(info.errors.invalid_amount - (before.errors.invalid_amount ?? 0)).toBe(1);
    expect(info.heap.used).toBeGreaterThan(0);
    expect(info.heap.limit).toBeGreaterThan(info.heap.used);
  });

  it('GET /cache/get?with_tags=true and a batch get with withTags answer the tags', async () => {
    await post('/cache/set', { key: 't:1', value: { a: 1 }, tags: ['team:1', 'all'] });
    const single = await (await fetch(`${server.url}/cache/get?key=t:1&with_tags=true`)).json();
    expect(single.value).toStrictEqual({ a: 1 });
    expect(single.tags.sort()).toStrictEqual(['all', 'team:1']);
    expect(await (await fetch(`${server.url}/cache/get?key=t:1`)).json()).toStrictEqual({ value: { a: 1 }, ttl: null });
    const batch = await (await post('/cache/batch', { operations: [{ op: 'get', key: 't:1', withTags: true }] })).json();
    expect(batch.results[0].tags.sort()).toStrictEqual(['all', 'team:1']);
    const bad = await fetch(`${server.url}/cache/get?key=t:1&with_tags=maybe`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid_command', error: expect.stringMatching(/"with_tags" must be true or false/) });
  });

  it('reports a data directory as the persistence', async () => {
    const dir = mkdtempSync(`${tmpdir()}/lix-info-`);
    const durable = await startServer({ args: ['--data-dir', dir, '--fsync', 'always'] });
    try {
      const info = await (await fetch(`${durable.url}/cache/info`)).json();
      expect(info.persistence).toStrictEqual({ kind: 'data-dir', dataDir: dir, fsync: 'always' });
    } finally {
      await durable.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
