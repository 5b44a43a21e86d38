import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LixCache, LixCacheError } from '../src/index';

const SDK_DIR = fileURLToPath(new URL('..', import.meta.url));

function quietLogger() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (message: string) => warnings.push(message) } };
}

describe('config', () => {
  const saved = { url: process.env.LIX_CACHE_URL, key: process.env.LIX_CACHE_API_KEY };
  afterEach(() => {
    for (const [name, value] of [['LIX_CACHE_URL', saved.url], ['LIX_CACHE_API_KEY', saved.key]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('url: the option, else LIX_CACHE_URL, else http://localhost:4000', async () => {
    delete process.env.LIX_CACHE_URL;
    expect(new LixCache().url).toBe('http://localhost:4000');
    process.env.LIX_CACHE_URL = 'memory://from-env';
    const fromEnv = new LixCache();
    expect(fromEnv.url).toBe('memory://from-env');
    expect(await fromEnv.set('k', 1)).toBe(true);
    expect(new LixCache({ url: 'memory://option' }).url).toBe('memory://option');
    await fromEnv.close();
  });

  it('warns once when a non-local server is used without an API key', () => {
    const remote = quietLogger();
    new LixCache({ url: 'https://cache.example.com', logger: remote.logger });
    expect(remote.warnings).toHaveLength(1);
    expect(remote.warnings[0]).toMatch(/cache\.example\.com.*API key.*LIX_API_KEYS.*apiKey/s);
    const quiet = quietLogger();
    new LixCache({ url: 'https://cache.example.com', apiKey: 'k', logger: quiet.logger });
    new LixCache({ url: 'http://localhost:4000', logger: quiet.logger });
    new LixCache({ url: 'http://127.0.0.1:4000', logger: quiet.logger });
    new LixCache({ url: 'http://[::1]:4000', logger: quiet.logger });
    new LixCache({ url: 'memory://quiet', logger: quiet.logger }).close();
    process.env.LIX_CACHE_API_KEY = 'from-env';
    new LixCache({ url: 'https://cache.example.com', logger: quiet.logger });
    expect(quiet.warnings).toEqual([]);
  });

  it('localCache: true is the near cache, localCacheTTL its most seconds per entry; both stay coherent with other clients', async () => {
    const logger = quietLogger();
    const cache = new LixCache({ url: 'memory://local-cache', localCache: true, localCacheTTL: 30, logger: logger.logger });
    expect(cache.hasNearCache).toBe(true);
    const other = new LixCache({ url: 'memory://local-cache' });
    expect(other.hasNearCache).toBe(false);
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    expect(await cache.get('k')).toBe(1);
    expect(cache.nearCacheStats()).toMatchObject({ hits: 1, misses: 1, live: true, entries: 1 });
    const before = cache.nearCacheStats()!.invalidations;
    await other.set('k', 2);
    expect(cache.nearCacheStats()!.invalidations).toBe(before + 1);
    expect(await cache.get('k')).toBe(2);
    // localCacheTTL caps the local copy: the key has no server TTL, so the copy's remaining TTL is not reported as 30.
    expect(await cache.getEntry('k')).toEqual({ value: 2, ttl: null });
    expect(logger.warnings).toEqual([]);
    await Promise.all([cache.close(), other.close()]);
    const off = new LixCache({ url: 'memory://local-cache', localCache: false, localCacheTTL: 60, batchWindow: 10, logger: logger.logger });
    expect(off.hasNearCache).toBe(false);
    expect(off.nearCacheStats()).toBeUndefined();
    await off.close();
  });

  it('refuses bad options at construction, with what to use instead', () => {
    const bad: [unknown, RegExp][] = [
      [{ url: 'ftp://x' }, /Unsupported URL scheme "ftp:\/\/".*http:\/\//],
      [{ url: 'localhost:4000' }, /not a URL/],
      [{ url: 'http://' }, /not a valid URL/],
      [{ timeout: 0 }, /"timeout" must be a number ≥ 1/],
      [{ maxRetries: 1.5 }, /"maxRetries" must be a whole number/],
      [{ retryDelay: -1 }, /"retryDelay"/],
      [{ batching: 'yes' }, /"batching" must be true, false or \{ maxBatchSize, maxInFlight \}/],
      [{ batching: { maxBatchSize: 0 } }, /maxBatchSize/],
      [{ batching: { maxInFlight: 0 } }, /"batching.maxInFlight" must be a whole number ≥ 1/],
      [{ batching: { maxInFlight: 2.5 } }, /"batching.maxInFlight" must be a whole number ≥ 1/],
      [{ apiKey: '' }, /"apiKey" must be a non-empty string/],
      [{ batchWindow: -1 }, /"batchWindow" must be a number from 0 to 2147483647; got -1/],
      [{ batchWindow: Number.NaN }, /"batchWindow" must be a number .*got NaN/],
      [{ batchWindow: '10' }, /"batchWindow" must be a number .*got 10/],
      [{ batchWindow: 2 ** 31 }, /"batchWindow" must be a number from 0 to 2147483647/],
      [{ localCache: 'yes' }, /"localCache" must be true or false; got yes/],
      [{ localCache: 1 }, /"localCache" must be true or false/],
      [{ localCacheTTL: -5 }, /"localCacheTTL" must be a number ≥ 0; got -5/],
      [{ localCacheTTL: Number.POSITIVE_INFINITY }, /"localCacheTTL" must be a number ≥ 0; got Infinity/],
      [{ localCacheTTL: '60' }, /"localCacheTTL" must be a number/],
      [{ logger: {} }, /"logger" must have a warn/],
      [{ nearCache: 'yes' }, /"nearCache" must be true, false or \{ maxEntries, maxBytes, prefixes, ttl \}; got yes/],
      [{ nearCache: { maxEntries: 0 } }, /"nearCache.maxEntries" must be a whole number ≥ 1; got 0/],
      [{ nearCache: { maxBytes: 10 } }, /"nearCache.maxBytes" must be a whole number ≥ 1024; got 10/],
      [{ nearCache: { prefixes: [] } }, /"nearCache.prefixes" must be 1 to 32 non-empty key prefixes/],
      [{ nearCache: { prefixes: ['a', ''] } }, /"nearCache.prefixes" must be 1 to 32 non-empty key prefixes/],
      [{ nearCache: { ttl: 0 } }, /"nearCache.ttl" must be a number ≥ 0.001; got 0/],
      [{ url: 'memory://x?limit=abc' }, /"limit" must be a whole number/],
      [{ url: 'memory://x?color=red' }, /Unknown memory:\/\/ parameter "color"/],
      [{ url: 'memory://x?fsync=always' }, /"fsync" needs "dataDir"/],
      [{ url: 'memory://x?dataDir=/tmp/x&fsync=sometimes' }, /"fsync" must be one of always, everysec, no/],
      [{ url: 'redis://h:6379?db=2' }, /Unknown redis:\/\/ parameter "db"/],
      [{ url: 'redis://h:notaport' }, /Invalid Redis URL|not a (valid )?URL/],
    ];
    for (const [config, message] of bad) {
      let error: unknown;
      try {
        new LixCache(config as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(config)).toBeInstanceOf(LixCacheError);
      expect((error as LixCacheError).code).toBe('invalid_config');
      expect((error as Error).message, JSON.stringify(config)).toMatch(message);
    }
  });

  it('memory:// with the same URL is one engine for the whole process, released when the last client closes', async () => {
    const app = new LixCache({ url: 'memory://shared' });
    const sessions = new LixCache({ url: 'memory://shared' });
    const other = new LixCache({ url: 'memory://elsewhere' });
    await app.set('session:1', { user: 'ann' });
    expect(await sessions.get('session:1')).toEqual({ user: 'ann' });
    expect(await other.get('session:1')).toBeNull();
    await app.close();
    expect(await sessions.get('session:1')).toEqual({ user: 'ann' });
    await sessions.close();
    const fresh = new LixCache({ url: 'memory://shared' });
    expect(await fresh.get('session:1')).toBeNull();
    await Promise.all([fresh.close(), other.close()]);
  });

  it('memory:// parameters reach the engine', async () => {
    const small = new LixCache({ url: 'memory://small?limit=3' });
    for (const key of ['a', 'b', 'c', 'd']) await small.set(key, key);
    const stats = await small.stats();
    expect(stats.limit).toBe(3);
    expect(stats.size).toBe(3);
    expect(stats.evictions).toBe(1);
    await small.close();
  });

  it('memory://?dataDir= keeps the data across engines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lix-sdk-'));
    try {
      const url = `memory://durable?dataDir=${encodeURIComponent(join(dir, 'data'))}&fsync=always`;
      const first = new LixCache({ url });
      await first.set('user:1', { name: 'Ann' }, { tags: ['team'] });
      await first.incr('visits', 3);
      await first.close();
      const second = new LixCache({ url });
      expect(await second.get('user:1')).toEqual({ name: 'Ann' });
      expect(await second.get('visits')).toBe(3);
      expect((await second.scan({ tag: 'team', keysOnly: true })).keys).toEqual(['user:1']);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CommonJS build loads with require()', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const { LixCache, LixTypeError } = require('./dist/index.cjs');
         const cache = new LixCache({ url: 'memory://cjs' });
         (async () => {
           await cache.set('n', 'x');
           const error = await cache.incr('n').catch((e) => e);
           console.log(JSON.stringify({ value: await cache.get('n'), typed: error instanceof LixTypeError }));
           await cache.close();
         })();`,
      ],
      { cwd: SDK_DIR, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({ value: 'x', typed: true });
  });
});
