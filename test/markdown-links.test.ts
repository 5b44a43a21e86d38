import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, test } from 'vitest';

// Every relative link in the repository's Markdown must name a file that exists, and an
// anchor (#heading) must name a heading of that file, so the docs cannot point at nothing.
const root = new URL('..', import.meta.url).pathname;

function markdownFiles(): string[] {
  const inDir = (dir: string) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).map((name) => join(dir, name)) : []);
  const files = [
    'README.md',
    'CHANGELOG.md',
    ...inDir('docs').filter((file) => file.endsWith('.md')),
    ...inDir('packages').map((dir) => join(dir, 'README.md')),
    ...inDir('examples').map((dir) => join(dir, 'README.md')),
  ];
  return files.filter((file) => existsSync(join(root, file)));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsIn(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => anchorOf(heading!)));
}

/** [text](target) outside code blocks and inline code; absolute URLs and mailto: are not checked here. */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target!).filter((target) => !/^[a-z]+:/i.test(target));
}

test('the Markdown files this checks are there', () => {
  expect(markdownFiles()).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/protocol.md', 'packages/session/README.md']));
});

test('every relative Markdown link points at an existing file and heading', () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    const path = join(root, file);
    for (const target of relativeLinks(readFileSync(path, 'utf8'))) {
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const linked = pathPart === '' ? path : join(dirname(path), decodeURIComponent(pathPart));
      if (!existsSync(linked)) broken.push(`${file}: ${target} (no file ${relative(root, linked)})`);
      else if (anchor !== undefined && linked.endsWith('.md') && !anchorsIn(linked).has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor})`);
    }
  }
  expect(broken).toEqual([]);
});
