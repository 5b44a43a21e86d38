import { defineConfig } from 'tsup';

export default defineConfig({
  // One entry per framework: the Express middleware, the Fastify plugin and the express-session
  // store live apart, so that only each adapter's users load its `request.session` typing
  // (express-session and @fastify/session have their own); the Hono entry's graph stays free of
  // Node-only modules (test/hono-entry-graph.test.ts).
  entry: ['src/index.ts', 'src/express.ts', 'src/express-session-store.ts', 'src/fastify.ts', 'src/hono.ts', 'src/next.ts'],
  // The app's own Next.js (an optional peer), never bundled: next/headers reads its request store.
  external: ['next', /^next\//],
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
