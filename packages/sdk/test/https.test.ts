import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../../test/helpers/server-process';

const run = promisify(execFile);
const ROOT = new URL('../../..', import.meta.url).pathname;

/**
 * An https:// URL: the SDK (built, in a fresh process that trusts a self-signed certificate
 * through NODE_EXTRA_CA_CERTS) talks TLS to a proxy in front of a real server.
 */
describe('https:// transport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lix-https-'));
  let server: ServerProcess;
  let proxy: Server;
  let url: string;

  beforeAll(async () => {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    server = await startServer();
    const target = new URL(server.url);
    proxy = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    url = `https://localhost:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    proxy?.closeAllConnections();
    proxy?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const script = (target: string) => `import { LixCache } from 'lix-cache-sdk';
const cache = new LixCache({ url: ${JSON.stringify(target)} });
await cache.set('tls:1', { ok: true });
const [value, count] = await Promise.all([cache.get('tls:1'), cache.incr('tls:n')]);
console.log(JSON.stringify({ value, count, health: await cache.health() }));
await cache.close();`;

  it('sets, batches and reads over TLS', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script(url)], { cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') } });
    expect(JSON.parse(stdout)).toEqual({ value: { ok: true }, count: 1, health: { ok: true, status: 'healthy' } });
  });

  it('refuses a certificate it does not trust, with a connection error', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `import { LixCache } from 'lix-cache-sdk';
const cache = new LixCache({ url: ${JSON.stringify(url)}, maxRetries: 0 });
const error = await cache.get('tls:1').catch((e) => e);
console.log(JSON.stringify({ name: error.name, code: error.code }));
await cache.close();`], { cwd: ROOT });
    expect(JSON.parse(stdout)).toMatchObject({ name: 'LixConnectionError' });
  });
});
