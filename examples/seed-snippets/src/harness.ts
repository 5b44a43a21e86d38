/*
 * Harness, not from the seed: what the session-management guide's snippets use without
 * declaring it — a users table behind `validateCredentials` and `loadUser`, an Express app
 * with body and cookie parsing, and the type of `req.session` the snippets assign.
 */
import express, { type Express } from 'express';
import cookieParser from 'cookie-parser';
import type { Session } from './simple-session-store';
import type { DeviceSession } from './multi-device-sessions';

/** A user as the snippets use one: `user.id` for the session owner, and the fields a session copies. */
export interface User {
  id: string;
  userId: string;
  username: string;
  email: string;
}

// Demo users, plain-text passwords on purpose: the harness only has to tell right from wrong.
const users = new Map<string, { user: User; password: string }>([
  ['alice', { user: { id: 'user-alice', userId: 'user-alice', username: 'alice', email: 'alice@example.com' }, password: 'wonderland' }],
  ['bob', { user: { id: 'user-bob', userId: 'user-bob', username: 'bob', email: 'bob@example.com' }, password: 'builder' }],
]);

/** The user whose username and password these are, or null. */
export async function validateCredentials(username: unknown, password: unknown): Promise<User | null> {
  const entry = typeof username === 'string' ? users.get(username) : undefined;
  return entry && entry.password === password ? entry.user : null;
}

/** The user with this id; throws for an unknown id (a remember-me token outliving its user). */
export async function loadUser(userId: string): Promise<User> {
  for (const { user } of users.values()) if (user.id === userId) return user;
  throw new Error(`No user with id ${userId}`);
}

/** A fresh Express app with the JSON body parser and cookie parser the snippets' routes assume. */
export function harnessApp(): Express {
  const app = express();
  app.use(express.json());
  app.use(cookieParser());
  return app;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** What the snippets' middleware attach: a session, possibly a device session (with `deviceId`). */
    session?: (Session & Partial<Pick<DeviceSession, 'deviceId' | 'deviceName' | 'lastIP'>>) | null;
  }
}
