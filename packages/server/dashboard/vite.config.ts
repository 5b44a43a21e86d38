import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard's pages, built into dist/dashboard/ and served by the server at /dashboard/.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/dashboard/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One script and one stylesheet: the CSP allows only files from this origin, never inline code.
    assetsInlineLimit: 0,
    modulePreload: false,
    chunkSizeWarningLimit: 400,
  },
});
