import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { nextSession } from 'lix-cache-session/next';
import { notAuthenticated, type Layer } from './layer';
import { user } from './user';

export function lixLayer(url: string): Layer {
  const store = new SessionStore({ cache: new LixCache({ url }), ttl: 3600 });
  const sessions = nextSession({ store, cookie: { secure: false } });
  const login = sessions.route(async (_request, s) => {
    await s.login(user);
    return Response.json({ message: 'Login successful' });
  });
  const profile = sessions.route(async (_request, s) => {
    const session = s.session;
    if (!session) return notAuthenticated();
    return Response.json({ userId: session.userId, username: session.username, email: session.email });
  });
  return { login: (request) => login(request, undefined), profile: (request) => profile(request, undefined) };
}
