import { describeSessionRoutes } from '../../../test/session-security/routes-table';
import { startExample } from './example-process';

// The shared route contract table (test/session-security/routes-table.ts), against the Hono app
// on @hono/node-server (so it sees the peer address). Its security rows are in security.test.ts.
describeSessionRoutes('hono', startExample, {
  capabilities: { writeDelay: true, peerAddress: true, jsonNotFound: true },
});
