import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

const browserTransports = fileURLToPath(new URL('./src/transports/open.browser.ts', import.meta.url));

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    target: 'node22',
    // The CJS build requires the engine entries it loads on demand (import() there would load core's ESM
    // build beside its CJS one: two LixError classes, and instanceof checks that fail).
    esbuildOptions(options, { format }) {
      if (format === 'cjs') options.supported = { 'dynamic-import': false };
    },
  },
  {
    // dist/browser.js (the package's "browser" export): one self-contained ES module with
    // the http(s) transport only, core's validation inlined (from its source, by the tsconfig
    // "paths" esbuild reads), and no Node module.
    entry: { browser: 'src/index.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    noExternal: ['lix-cache-core', 'secure-json-parse', 'lru-cache', 'eventsource-parser'],
    // Safety net: were any of these reached, the bundle would keep a bare import and the check in test/browser.test.ts fails.
    external: ['ioredis', /^node:/],
    esbuildOptions(options) {
      options.conditions = ['browser', 'import'];
    },
    esbuildPlugins: [
      {
        name: 'browser-transports',
        setup(build) {
          build.onResolve({ filter: /\/transports\/open$/ }, () => ({ path: browserTransports }));
        },
      },
    ],
  },
]);
