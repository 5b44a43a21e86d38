import { readFileSync } from 'node:fs';
import { ERRORS } from 'lix-cache-core';
import { MemoryEngine } from 'lix-cache-core/memory';
import { buildApp } from 'lix-cache-server';
import { expect, test } from 'vitest';

// docs/protocol.md is written by hand; these checks keep it from falling behind the code.
const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');

/** "METHOD /path" for every route the server registers (HEAD rides along with GET). */
async function registeredRoutes(): Promise<string[]> {
  const app = await buildApp(new MemoryEngine(), { logLevel: 'silent' });
  await app.ready();
  const tree = app.printRoutes({ commonPrefix: false });
  await app.close();
  // Each line is a path segment under the nearest shallower line: "└── / (GET)", "    ├── cache/get (GET, HEAD)".
  const parents: string[] = [];
  return tree.split('\n').flatMap((line) => {
    const match = /^([│├└─\s]*)(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) return [];
    const depth = match[1]!.length / 4;
    const parent = parents[depth - 1];
    const path = parent === undefined ? match[2]! : `${parent}${parent.endsWith('/') ? '' : '/'}${match[2]}`;
    parents[depth] = path;
    const methods = match[3]?.split(', ').filter((method) => method !== 'HEAD') ?? [];
    return methods.map((method) => `${method} ${path}`);
  });
}

/** The endpoints the doc has a heading for: "### `POST /cache/incr` and `POST /cache/decr`". */
function documentedRoutes(): string[] {
  return [...doc.matchAll(/^### (.+)$/gm)].flatMap(([, heading]) => [...heading!.matchAll(/`([A-Z]+ \/[^`]*)`/g)].map(([, route]) => route!));
}

test('docs/protocol.md has a section for every route the server registers, and no other', async () => {
  const routes = await registeredRoutes();
  expect(routes.length).toBeGreaterThan(10);
  expect(documentedRoutes().sort()).toEqual(routes.sort());
});

test("docs/protocol.md lists every error code of core's registry with its HTTP status", () => {
  const rows = new Map([...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map(([, code, status]) => [code!, Number(status)]));
  const registry = new Map(Object.entries(ERRORS).map(([code, { status }]) => [code, status]));
  expect(rows).toEqual(registry);
});
