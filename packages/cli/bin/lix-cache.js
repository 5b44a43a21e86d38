#!/usr/bin/env node
// The package's bin. It is a committed file rather than dist/cli.js itself because npm
// links bins before it runs `prepare`: in a fresh clone of the repository dist/ does not
// exist yet when `npm install` links this file, and a missing target gets no link at all.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    `lix-cache: ${fileURLToPath(cli)} is missing: the package has not been built.\n` +
      'In a clone of the repository run `npm install` (or `npm run build`) at its root, then try again.\n',
  );
  process.exit(1);
}
await import(cli.href);
