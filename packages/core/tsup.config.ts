import { defineConfig } from 'tsup';

export default defineConfig({
  // Three entries, so that importing the command language loads no engine: lix-cache-core
  // (no ioredis, no node:fs), lix-cache-core/memory and lix-cache-core/redis.
  entry: { index: 'src/index.ts', memory: 'src/memory/index.ts', redis: 'src/redis/index.ts' },
  format: ['esm', 'cjs'],
  // Shared code in chunks for CJS too (as for ESM): one LixError class however many entries are loaded, so instanceof holds.
  splitting: true,
  dts: true,
  clean: true,
  target: 'node22',
});
