import { defineConfig } from 'tsup';

export default defineConfig({
  // Four entries: the Express middleware, the Fastify plugin and the express-session store
  // live apart, so that only each adapter's users load its `request.session` typing
  // (express-session and @fastify/session have their own).
  entry: ['src/index.ts', 'src/express.ts', 'src/fastify.ts', 'src/express-session-store.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node22',
  // Shared chunks in the CJS build too: one SessionStore class, so that `lixSession` from
  // the express entry accepts (instanceof) a store made from the main entry.
  splitting: true,
  // import.meta.url in the CJS build (createRequire of express-session).
  shims: true,
});
