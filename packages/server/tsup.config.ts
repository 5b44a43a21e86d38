import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    target: 'node22',
  },
  {
    // ESM only: dist/cli.js is run by bin/lix-cache-server.js (the package's bin), never required.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    target: 'node22',
  },
]);
