import { afterAll, describe, expect, it } from 'vitest';
import { projectWithout } from '../../../test/helpers/without-packages';

// express-session is an optional peer dependency, needed by lix-cache-session/express-session
// only. Runs the built dist/ (npm run build) in a project where it is not installed.
describe('without express-session installed', () => {
  const project = projectWithout(['express-session']);
  afterAll(() => project.remove());

  const message = 'lix-cache-session/express-session needs the "express-session" package, which is not installed. Install it: npm install express-session';

  it('an ES module app: lix-cache-session loads, lix-cache-session/express-session fails naming express-session', async () => {
    const output = await project.run(
      `const { SessionStore } = await import('lix-cache-session');
const error = await import('lix-cache-session/express-session').then(() => null, (e) => e);
console.log(JSON.stringify({ sessionStore: typeof SessionStore, code: error?.code, message: error?.message }));`,
      'module',
    );
    expect(JSON.parse(output)).toEqual({ sessionStore: 'function', code: 'missing_dependency', message });
  });

  it('a CommonJS app: the same', async () => {
    const output = await project.run(
      `const { SessionStore } = require('lix-cache-session');
let error = null;
try { require('lix-cache-session/express-session'); } catch (e) { error = e; }
console.log(JSON.stringify({ sessionStore: typeof SessionStore, code: error?.code, message: error?.message }));`,
      'commonjs',
    );
    expect(JSON.parse(output)).toEqual({ sessionStore: 'function', code: 'missing_dependency', message });
  });
});
