import { beforeAll } from 'vitest';
import { describeSessionSecurity } from '../../../test/session-security/table';
import { BUILD_TIMEOUT_MS, buildExample, startExample } from './example-process';

// `next build` first, under its own timeout (a cold build takes over a minute), so that the
// table's own beforeAll only starts `next start` processes.
beforeAll(() => buildExample(), BUILD_TIMEOUT_MS);

// The shared session security table (test/session-security/table.ts), against this app.
describeSessionSecurity('next', startExample);
