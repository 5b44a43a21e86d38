import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const config: NextConfig = {
  poweredByHeader: false,
  // The shared demo users and session setup are TypeScript source in a workspace package.
  transpilePackages: ['lix-example-shared'],
  // The monorepo root (one lockfile there): where Turbopack finds the hoisted node_modules.
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
};

export default config;
