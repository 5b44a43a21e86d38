import { describeSessionRoutes } from '../../../test/session-security/routes-table';
import { startExample } from './example-process';

// The shared route contract table (test/session-security/routes-table.ts), against this app,
// and again with sessions read from the SDK's near cache.
// Its security rows are in security.test.ts; the app has every optional part of the contract.
const capabilities = { writeDelay: true, peerAddress: true, jsonNotFound: true };
describeSessionRoutes('express', startExample, { capabilities });
describeSessionRoutes('express with a near cache (LIX_NEAR_CACHE=true)', (cacheUrl, env) => startExample(cacheUrl, { LIX_NEAR_CACHE: 'true', ...env }), { capabilities });
