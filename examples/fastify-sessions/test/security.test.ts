import { describeSessionSecurity } from '../../../test/session-security/table';
import { startExample } from './example-process';

// The shared session security table (test/session-security/table.ts), against this app.
describeSessionSecurity('fastify', startExample);
