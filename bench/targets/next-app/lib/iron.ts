import { getIronSession } from 'iron-session';
import { cookies } from 'next/headers';
import { notAuthenticated, type Layer } from './layer';
import { user, type UserData } from './user';

const options = {
  password: 'bench-secret-bench-secret-bench-secret',
  cookieName: 'iron.sid',
  ttl: 3600,
  cookieOptions: { secure: false, httpOnly: true, sameSite: 'lax' as const },
};

export function ironLayer(): Layer {
  return {
    login: async () => {
      const session = await getIronSession<Partial<UserData>>(await cookies(), options);
      Object.assign(session, user);
      await session.save();
      return Response.json({ message: 'Login successful' });
    },
    profile: async () => {
      const session = await getIronSession<Partial<UserData>>(await cookies(), options);
      if (!session.userId) return notAuthenticated();
      // Re-seal with a fresh ttl: iron-session's way to slide the expiry.
      await session.save();
      return Response.json({ userId: session.userId, username: session.username, email: session.email });
    },
  };
}
