import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { BenchSettings, Section } from './lib/report';
import { renderSection } from './lib/report';
import { httpThroughput } from './suites/http-throughput';
import { imports } from './suites/imports';
import { batching } from './suites/batching';
import { frameworks } from './suites/frameworks';
import { memory } from './suites/memory';
import { nearCache } from './suites/near-cache';
import { persistence } from './suites/persistence';
import { redisScan } from './suites/redis-scan';
import { scale } from './suites/scale';
import { sessions } from './suites/sessions';

const SUITES: Record<string, (settings: BenchSettings) => Promise<Section>> = {
  http: httpThroughput,
  batching,
  sessions,
  'near-cache': nearCache,
  frameworks,
  memory,
  scale,
  persistence,
  'redis-scan': redisScan,
  imports,
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    splice: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`Usage: npm run bench -- [--quick] [--only ${Object.keys(SUITES).join('|')}]...

Runs Lix Cache side by side with its peers and prints one Markdown table per
suite; writes bench/RESULTS.md. --quick: short rounds (under two minutes).
--splice: replace only the sections this run measured (by their ### title; new
ones go after the previous section of the run) and keep the rest of RESULTS.md.`);
  process.exit(0);
}
const unknown = (values.only ?? []).filter((name) => !(name in SUITES));
if (unknown.length) {
  console.error(`Unknown suite ${unknown.join(', ')}. Suites: ${Object.keys(SUITES).join(', ')}.`);
  process.exit(2);
}

const settings: BenchSettings = values.quick ? { quick: true, seconds: 2, rounds: 2 } : { quick: false, seconds: 10, rounds: 3 };
// Read from node_modules directly: some packages do not export ./package.json.
const version = (pkg: string) => (JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
const redisVersion = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown';

const runAt = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const header = [
  `Run ${runAt}${settings.quick ? ' (--quick)' : ''}.`,
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}.`,
  `Versions: Node.js ${process.version}, redis-server ${redisVersion}, lix-cache ${version('lix-cache-server')}, fastify ${version('fastify')}, express ${version('express')}, express-session ${version('express-session')}, connect-redis ${version('connect-redis')}, autocannon ${version('autocannon')}.`,
  `Each system is measured in ${settings.rounds} interleaved rounds of ${settings.seconds} s; the tables show medians, and ratios within this one run.`,
].join('\n');

console.log(header + '\n');
const rendered: string[] = [];
const names = values.only?.length ? values.only : Object.keys(SUITES);
for (const name of names) {
  const section = await SUITES[name]!(settings);
  // A spliced section sits under another run's header: it says when and how it was measured.
  if (values.splice && !section.notes?.some((note) => note.startsWith('Run '))) {
    const command = `npm run bench -- --splice --only ${name}${settings.quick ? ' --quick' : ''}`;
    section.notes = [...(section.notes ?? []), `Run ${runAt}, Node.js ${process.version}, \`${command}\`.`];
  }
  const text = renderSection(section);
  console.log(text);
  rendered.push(text);
}

const resultsPath = new URL('./RESULTS.md', import.meta.url);
const fresh = () => `# Benchmark results\n\n${header}\n\nRerun with \`npm run bench\` (or \`npm run bench -- --quick\`).\n\n${rendered.join('\n')}`;
writeFileSync(resultsPath, values.splice ? spliceSections(readFileSync(resultsPath, 'utf8'), rendered) : fresh());
console.log(`Wrote ${resultsPath.pathname}`);
process.exit(0);

/**
 * `text` with each section of `sections` in place of the one of the same `### ` title;
 * a section it lacks goes after the one before it in `sections` (else at the end).
 */
function spliceSections(text: string, sections: string[]): string {
  const parts = text.split(/^(?=### )/m).map((part) => part.trimEnd());
  const title = (part: string) => part.slice(0, part.indexOf('\n'));
  let previous = -1;
  for (const section of sections.map((s) => s.trimEnd())) {
    let at = parts.findIndex((part) => title(part) === title(section));
    if (at >= 0) parts[at] = section;
    else parts.splice((at = previous >= 0 ? previous + 1 : parts.length), 0, section);
    previous = at;
  }
  return parts.join('\n\n') + '\n';
}
