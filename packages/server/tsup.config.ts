import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // ESM: the library and dist/cli.js (run by bin/lix-cache-server.js), sharing chunks.
    entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
    format: ['esm'],
    dts: { entry: { index: 'src/index.ts' } },
    clean: true,
    target: 'node22',
  },
  {
    // CJS: the library only; the CLI is never required.
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: true,
    target: 'node22',
    // import.meta.url (where the dashboard's files are) from __filename.
    shims: true,
    // The CJS build requires the engine entries it loads on demand (import() there would load core's ESM
    // build beside its CJS one: two LixError classes, and instanceof checks that fail).
    esbuildOptions(options) {
      options.supported = { 'dynamic-import': false };
    },
  },
]);
