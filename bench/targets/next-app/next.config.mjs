import { fileURLToPath } from 'node:url';

/** The bench's Next.js app: route handlers only, built with `next build`, run with `next start`. */
export default {
  // The monorepo root holds node_modules (npm workspaces hoist them there).
  turbopack: { root: fileURLToPath(new URL('../../..', import.meta.url)) },
  // Run the Lix packages from node_modules as a user's install does, not bundled into the route.
  serverExternalPackages: ['lix-cache-session', 'lix-cache-sdk', 'lix-cache-core'],
  poweredByHeader: false,
};
