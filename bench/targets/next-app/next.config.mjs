import { fileURLToPath } from 'node:url';

/**
 * Whether lix-cache-session has its built `/next` entry. Until it does, the app is built
 * with a stand-in that throws (lib/lix-missing.ts), so the other stacks still run.
 */
function resolves(specifier) {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
const lixNext = resolves('lix-cache-session/next');

/** The bench's Next.js app: route handlers only, built with `next build`, run with `next start`. */
export default {
  turbopack: {
    // The monorepo root holds node_modules (npm workspaces hoist them there).
    root: fileURLToPath(new URL('../../..', import.meta.url)),
    resolveAlias: lixNext ? {} : { 'lix-cache-session/next': './lib/lix-missing.ts' },
  },
  // Without the entry its import cannot type-check; everything else still does.
  typescript: { ignoreBuildErrors: !lixNext },
  // Run the Lix packages from node_modules as a user's install does, not bundled into the route.
  serverExternalPackages: ['lix-cache-session', 'lix-cache-sdk', 'lix-cache-core'],
  poweredByHeader: false,
};
