/** Stands in for lix-cache-session/next while that entry is not built (see next.config.mjs). */
export function nextSession(): never {
  throw new Error('lix-cache-session/next is not built: npm run build -w packages/session (the entry may not exist on this branch yet).');
}
