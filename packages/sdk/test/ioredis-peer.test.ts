import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadedModules } from '../../../test/helpers/loaded-modules';
import { projectWithout } from '../../../test/helpers/without-packages';

// ioredis is an optional peer dependency: an app without it still imports the SDK and
// uses http:// and memory:// URLs; a redis:// client says which package to install.
// Runs the built dist/ (npm run build) in a project where ioredis is not installed.
describe('without ioredis installed', () => {
  const project = projectWithout(['ioredis']);
  afterAll(() => project.remove());

  const script = (load: string) => `${load}
const memory = new LixCache({ url: 'memory://without-ioredis' });
await memory.set('k', 1);
const stored = await memory.get('k');
const redis = new LixCache({ url: 'redis://127.0.0.1:1' });
const error = await redis.get('k').then(() => null, (e) => e);
const health = await redis.health();
await Promise.all([memory.close(), redis.close()]);
console.log(JSON.stringify({ memory: stored, name: error?.name, code: error?.code, message: error?.message, health }));`;

  const expected = {
    memory: 1,
    name: 'LixServerError',
    code: 'missing_dependency',
    message: 'The redis:// transport needs the "ioredis" package, which is not installed. Install it: npm install ioredis',
    health: { ok: false, status: 'unhealthy', message: 'The redis:// transport needs the "ioredis" package, which is not installed. Install it: npm install ioredis' },
  };

  it('an ES module app: memory:// works, redis:// commands fail with missing_dependency naming ioredis', async () => {
    const output = await project.run(script(`import { LixCache } from 'lix-cache-sdk';`), 'module');
    expect(JSON.parse(output)).toEqual(expected);
  });

  it('a CommonJS app: the same', async () => {
    const output = await project.run(`(async () => { ${script(`const { LixCache } = require('lix-cache-sdk');`)} })().catch((e) => { console.error(e); process.exit(1); });`, 'commonjs');
    expect(JSON.parse(output)).toEqual(expected);
  });
});

describe('with ioredis installed', () => {
  // The CommonJS build must load core's CommonJS RedisEngine (not its ES module one beside it),
  // else core's errors are another LixError class and reach the app untranslated.
  it('a CommonJS app gets the typed LixConnectionError from an unreachable Redis', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '-e',
        `const { LixCache } = require('lix-cache-sdk');
const cache = new LixCache({ url: 'redis://127.0.0.1:1' });
cache.get('k').then(() => null, (e) => e).then(async (error) => { await cache.close(); console.log(JSON.stringify({ name: error?.name, code: error?.code })); });`,
      ],
      { cwd: fileURLToPath(new URL('.', import.meta.url)) },
    );
    expect(JSON.parse(stdout)).toEqual({ name: 'LixConnectionError', code: 'connection_failed' });
  });
});

describe('importing the SDK', () => {
  it('loads no engine: neither ioredis nor node:fs (they load with the first memory:// or redis:// command)', async () => {
    const loaded = await loadedModules('lix-cache-sdk');
    expect(loaded).toContain('lix-cache-core');
    expect(loaded.filter((name) => /^(ioredis|(node:)?fs|lix-cache-core\/memory|lix-cache-core\/redis)$/.test(name))).toEqual([]);
  });
});
