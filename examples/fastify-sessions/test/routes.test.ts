import { expect } from 'vitest';
import { CookieClient } from '../../../test/helpers/cookie-jar';
import { describeSessionRoutes } from '../../../test/session-security/routes-table';
import { startExample } from './example-process';

// The shared route contract table (test/session-security/routes-table.ts), against this app.
// Its security rows are in security.test.ts; the app has every optional part of the contract.
describeSessionRoutes('fastify', startExample, {
  capabilities: { writeDelay: true, peerAddress: true, jsonNotFound: true },
  rows: [
    {
      title: 'fastify: a JSON request without a body keeps its client-error status (400, not a 500)',
      async run({ app }) {
        const response = await new CookieClient(app.url).request('POST', '/api/login', { headers: { 'content-type': 'application/json' }, body: undefined });
        expect(response.status).toBe(400);
      },
    },
  ],
});
