import { defineConfig } from 'tsup';

// A command line only: one ESM file, dist/cli.js, run by bin/lix-cache.js. No library entry, so no types.
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  clean: true,
  target: 'node22',
});
