import { afterAll, describe, expect, it } from 'vitest';
import { projectWithout } from '../../../test/helpers/without-packages';

// express-session is an optional peer dependency. Without it, lix-cache-session/express-session
// still loads, so that LixSessionStore serves @fastify/session (which calls get/set/destroy only);
// the helpers express-session's Store would supply (createSession, load, regenerate) say that
// express-session is missing. Runs the built dist/ (npm run build) in a project without it.
describe('without express-session installed', () => {
  const project = projectWithout(['express-session']);
  afterAll(() => project.remove());

  const message = 'lix-cache-session/express-session needs the "express-session" package, which is not installed. Install it: npm install express-session';
  const expected = { sessionStore: 'function', stored: { n: 1 }, code: 'missing_dependency', message };

  it('an ES module app: LixSessionStore stores sessions; express-session\'s helpers fail naming express-session', async () => {
    const output = await project.run(
      `const { SessionStore } = await import('lix-cache-session');
const { LixSessionStore } = await import('lix-cache-session/express-session');
const store = new LixSessionStore({ cache: 'memory://without-express-session' });
await store.set('sid', { cookie: { originalMaxAge: null }, n: 1 });
const { cookie, ...stored } = await store.get('sid');
let error = null;
try { store.createSession({}, {}); } catch (e) { error = e; }
await store.cache.close();
console.log(JSON.stringify({ sessionStore: typeof SessionStore, stored, code: error?.code, message: error?.message }));`,
      'module',
    );
    expect(JSON.parse(output)).toEqual(expected);
  });

  it('a CommonJS app: the same', async () => {
    const output = await project.run(
      `const { SessionStore } = require('lix-cache-session');
const { LixSessionStore } = require('lix-cache-session/express-session');
(async () => {
  const store = new LixSessionStore({ cache: 'memory://without-express-session' });
  await store.set('sid', { cookie: { originalMaxAge: null }, n: 1 });
  const { cookie, ...stored } = await store.get('sid');
  let error = null;
  try { store.load('sid', () => {}); } catch (e) { error = e; }
  await store.cache.close();
  console.log(JSON.stringify({ sessionStore: typeof SessionStore, stored, code: error?.code, message: error?.message }));
})();`,
      'commonjs',
    );
    expect(JSON.parse(output)).toEqual(expected);
  });
});
