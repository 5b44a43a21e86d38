import type { Layer } from './layer';
import { user } from './user';

export function noneLayer(): Layer {
  return { login: async () => Response.json({ message: 'no sessions' }), profile: async () => Response.json(user) };
}
