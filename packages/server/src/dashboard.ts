import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build` puts the dashboard's pages (resolves the same from src/ and dist/). */
export const DASHBOARD_ASSETS = fileURLToPath(new URL('../dist/dashboard/', import.meta.url));

/**
 * The dashboard at `/dashboard/` (and `/` redirecting to it): static pages built at install time,
 * served without auth because they hold no data; every figure they show comes from the API with
 * the key the user types in. A strict CSP: scripts, styles and requests from this origin only.
 */
export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const built = existsSync(`${DASHBOARD_ASSETS}index.html`);
  if (!built) app.log.warn({ dir: DASHBOARD_ASSETS }, 'the dashboard was not built, so /dashboard answers 503: run npm run build in the repository (a published package ships it built)');
  app.get('/', { config: { assets: true } }, (_request, reply) => reply.redirect('/dashboard/'));
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, assets: true };
    });
    await scope.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          formAction: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      // The pages call only this origin; nothing needs to embed them or read them cross-origin.
      crossOriginResourcePolicy: { policy: 'same-origin' },
      referrerPolicy: { policy: 'no-referrer' },
      frameguard: { action: 'deny' },
      // The server speaks plain HTTP; HSTS is for the TLS proxy in front of it to send.
      strictTransportSecurity: false,
    });
    if (!built) {
      const notBuilt = (_request: FastifyRequest, reply: FastifyReply) =>
        reply.code(503).type('text/plain; charset=utf-8').send('The dashboard was not built. In a clone of the repository run `npm install` (or `npm run build`) at its root, then restart the server.\n');
      scope.get('/dashboard', notBuilt);
      scope.get('/dashboard/*', notBuilt);
      return;
    }
    // Built file names carry a content hash, so a browser may keep them; the page itself is always asked again.
    await scope.register(fastifyStatic, { root: DASHBOARD_ASSETS, prefix: '/dashboard/', index: false, maxAge: '365d', immutable: true });
    // The router ignores trailing slashes, so `/dashboard/` is this route, not the files' wildcard.
    scope.get('/dashboard', (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false }));
  });
}
