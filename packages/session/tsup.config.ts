import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entries: the express-session store lives apart so that its users never load
  // this package's `req.session` typing, which would clash with express-session's own.
  entry: ['src/index.ts', 'src/express-session-store.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node22',
  // import.meta.url in the CJS build (createRequire of express-session).
  shims: true,
});
