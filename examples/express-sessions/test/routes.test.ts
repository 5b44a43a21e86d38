import { describeSessionRoutes } from '../../../test/session-security/routes-table';
import { startExample } from './example-process';

// The shared route contract table (test/session-security/routes-table.ts), against this app.
// Its security rows are in security.test.ts; the app has every optional part of the contract.
describeSessionRoutes('express', startExample, {
  capabilities: { writeDelay: true, peerAddress: true, jsonNotFound: true },
});
