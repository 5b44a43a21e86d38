// Seed: session-management.md, "Type-Safe Sessions with Zod".

// ---- harness (not from the seed) ----
import { cache } from './simple-session-store';

// ---- seed, verbatim ----
import { z } from 'zod';

const SessionSchema = z.object({
  userId: z.string(),
  username: z.string(),
  email: z.string().email(),
  roles: z.array(z.string()),
  createdAt: z.number(),
  lastAccess: z.number(),
  ipAddress: z.string().optional(),
  userAgent: z.string().optional()
});

type Session = z.infer<typeof SessionSchema>;

// Create validated collection
const sessions = cache.collection<Session>('session:', SessionSchema);

// All operations are validated!
await sessions.set('abc123', {
  userId: 'user-1',
  username: 'alice',
  email: 'alice@example.com',
  roles: ['user', 'admin'],
  createdAt: Date.now(),
  lastAccess: Date.now()
});
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { SessionSchema, sessions, type Session };
