import type { Layer } from './layer';
import { user } from './user';

export function noneLayer(): Layer {
  return { login: async () => {}, profile: async () => user };
}
