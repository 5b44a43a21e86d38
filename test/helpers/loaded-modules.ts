import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// A resolve hook that prints every specifier Node resolves, imported or required (Node 20.6+ hooks see ESM imports;
// the packages' ES module builds are what this reads). The hook runs on its own thread: writeSync, because
// process.stdout.write there is asynchronous and loses what is still queued when the process exits (seen on Node 24).
const HOOK = `import { writeSync } from 'node:fs'; export async function resolve(specifier, context, next) { writeSync(1, specifier + '\\n'); return next(specifier, context); }`;

/** Every module specifier a fresh node resolves while importing `entry` (the built dist/). */
export async function loadedModules(entry: string): Promise<string[]> {
  const script = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
await import(${JSON.stringify(entry)});`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
  return [...new Set(stdout.split('\n').filter(Boolean))];
}
