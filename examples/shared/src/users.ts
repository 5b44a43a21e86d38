import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export interface User {
  id: string;
  username: string;
  email: string;
  roles: string[];
  /** `scrypt$<salt>$<hash>`, base64url; never the password. */
  passwordHash: string;
}

/**
 * The demo's users table. Passwords (see README): alice / wonderland, bob / builder,
 * carol / admin-carol (carol is an admin). Only scrypt hashes are kept.
 */
const USERS: readonly User[] = [
  {
    id: 'user-1',
    username: 'alice',
    email: 'alice@example.com',
    roles: ['user'],
    passwordHash: 'scrypt$6vaqPWJ-FyIwOT40r0_2nw$m8y9JzO7qdw3-3xXY43k_fK5-60Qp8wi30FhvHNxspgq30f4Ud7Y5V2HlAzFxKrAeGJ2kv9HXn2md5z9gWBC9A',
  },
  {
    id: 'user-2',
    username: 'bob',
    email: 'bob@example.com',
    roles: ['user'],
    passwordHash: 'scrypt$M5BKqA8x6eEB2UG8gdKeUg$q2O1GagEBftUtIBqzUZhDTIEfv9gIG0Fe4S1wi-xoNIDVJJ7m2fgmptOA6KBekNW5tRcGH-9ot24jt07grZW9A',
  },
  {
    id: 'user-3',
    username: 'carol',
    email: 'carol@example.com',
    roles: ['user', 'admin'],
    passwordHash: 'scrypt$GyWcNKBU6G8wtxWxeV-iPQ$UUOLxQUSq8LgdUbhRqvF6vCeVB49yEkOA4NWeIedRIZH-WrYeH_WI674wd9d-awUEzgZE7eyJNYdK8ioledWRA',
  },
];

const byUsername = new Map(USERS.map((user) => [user.username, user]));
const byId = new Map(USERS.map((user) => [user.id, user]));

/** Compared against when the username is unknown, so both cases take the same time. */
const DUMMY_HASH = `scrypt$${randomBytes(16).toString('base64url')}$${randomBytes(64).toString('base64url')}`;

/** Hash a password for the users table (`scrypt$salt$hash`). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 64);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt!, 'base64url'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** The user whose username and password these are, or null. */
export async function validateCredentials(username: unknown, password: unknown): Promise<User | null> {
  if (typeof username !== 'string' || typeof password !== 'string') return null;
  const user = byUsername.get(username);
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  return ok && user ? user : null;
}

export function loadUser(id: string): User | null {
  return byId.get(id) ?? null;
}
