import type { NextRequest } from 'next/server';
import { sessions } from '@/lib/sessions';

/**
 * The guard of the protected pages (Next 16's proxy runs on Node.js): a real session check,
 * remember-me sign-in, else a redirect to /login?next=<path>. Route handlers check the session
 * themselves (sessions.route), so the API is not behind it.
 */
export function proxy(request: NextRequest) {
  return sessions.guard(request, { loginPath: '/login' });
}

export const config = { matcher: ['/account/:path*'] };
