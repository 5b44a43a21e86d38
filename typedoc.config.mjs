// `npm run docs`: the API reference of the four packages, one module per public
// entry: the package entries a user can import, listed once in tsconfig.base.json "paths"
// (each entry file's first comment carries an `@module <import path>` tag).
import { readFileSync } from 'node:fs';

const { paths } = JSON.parse(readFileSync(new URL('./tsconfig.base.json', import.meta.url), 'utf8')).compilerOptions;

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'Lix Cache',
  entryPoints: Object.values(paths).map(([source]) => source),
  tsconfig: 'tsconfig.docs.json',
  // Source links from the repository's address, not the clone's git remote (CI clones from a path).
  disableGit: true,
  sourceLinkTemplate: 'https://github.com/lix-cache/lix-cache/blob/main/{path}#L{line}',
  out: 'docs/api',
  readme: 'none',
  excludePrivate: true,
  excludeInternal: true,
  // Every exported class, interface, type and constant needs a doc comment. Functions and
  // methods are not required yet: turning 'Function' on lists the undocumented ones.
  requiredToBeDocumented: ['Class', 'Interface', 'TypeAlias', 'Variable', 'Enum'],
  // Symbols belong to their own package, not the root one TypeDoc checks by default.
  packagesRequiringDocumentation: ['lix-cache-core', 'lix-cache-sdk', 'lix-cache-server', 'lix-cache-session'],
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  // Inherited Node.js members (LixSessionStore extends EventEmitter) link to Node's docs.
  externalSymbolLinkMappings: { '@types/node': { '*': 'https://nodejs.org/api/' } },
  // npm run typecheck checks the types; TypeDoc only reads them (half the time).
  skipErrorChecking: true,
  treatWarningsAsErrors: true,
};
