// `npm run docs`: the API reference of the four packages, one module per public
// entry (the package.json "exports" a user can import). Adding an entry is one line
// here plus an `@module <import path>` tag in the entry file's first comment.
/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'Lix Cache',
  entryPoints: [
    'packages/core/src/index.ts',
    'packages/sdk/src/index.ts',
    'packages/server/src/index.ts',
    'packages/session/src/index.ts',
    'packages/session/src/express-session-store.ts',
  ],
  tsconfig: 'tsconfig.docs.json',
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
