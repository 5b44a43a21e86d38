import { describeSessionSecurity } from '../../../test/session-security/table';
import { startExample } from './example-process';

// The shared session security table (test/session-security/table.ts), against this app,
// and again with sessions read from the SDK's near cache: every row must hold there too.
describeSessionSecurity('express', startExample);
describeSessionSecurity('express with a near cache (LIX_NEAR_CACHE=true)', (cacheUrl, env) => startExample(cacheUrl, { LIX_NEAR_CACHE: 'true', ...env }));
