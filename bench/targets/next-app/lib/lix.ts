import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { getSession } from 'lix-cache-session/next';
import type { Layer } from './layer';
import { user, type UserData } from './user';

export function lixLayer(url: string): Layer {
  const store = new SessionStore({ cache: new LixCache({ url }), ttl: 3600 });
  const options = { store, cookie: { secure: false } };
  return {
    login: async () => {
      const lix = await getSession(options);
      await lix.login(user);
    },
    profile: async () => {
      const lix = await getSession(options);
      const session = lix.session as Partial<UserData> | undefined;
      if (!session?.userId) return undefined;
      return { userId: session.userId, username: session.username!, email: session.email! };
    },
  };
}
