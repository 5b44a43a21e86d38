import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const config: NextConfig = {
  poweredByHeader: false,
  // The monorepo root (one lockfile there): where Turbopack finds the hoisted node_modules.
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
};

export default config;
