import { defineConfig } from 'tsup';

export default defineConfig({
  // cli.ts starts with a shebang, which esbuild keeps: dist/cli.js is the package's bin.
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  target: 'node20',
  sourcemap: true,
  // The CJS build requires the engine entries it loads on demand (import() there would load core's ESM
  // build beside its CJS one: two LixError classes, and instanceof checks that fail).
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.supported = { 'dynamic-import': false };
  },
});
