import { describe, expect, it } from 'vitest';
import { loadedModules } from '../../../test/helpers/loaded-modules';

// The root entry is what the SDK, the server's config and every validation path load:
// it must not pull an engine in. Reads the built dist/ (npm run build).
describe('entries', () => {
  it('lix-cache-core loads neither ioredis nor node:fs', async () => {
    const loaded = await loadedModules('lix-cache-core');
    expect(loaded).toContain('secure-json-parse');
    expect(loaded.filter((name) => /^(ioredis|(node:)?fs|sorted-btree)$/.test(name))).toEqual([]);
  });

  it('lix-cache-core/memory loads node:fs, not ioredis', async () => {
    const loaded = await loadedModules('lix-cache-core/memory');
    expect(loaded.filter((name) => /^(node:)?fs$/.test(name))).toHaveLength(1);
    expect(loaded).not.toContain('ioredis');
  });

  it('lix-cache-core/redis loads ioredis', async () => {
    expect(await loadedModules('lix-cache-core/redis')).toContain('ioredis');
  });
});
