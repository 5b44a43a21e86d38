import type { UserData } from './user';

/**
 * One Next.js app, three ways to know who is asking. MODE (read when the server starts) picks:
 * - none: no sessions at all (the framework's ceiling)
 * - lix: lix-cache-session/next on LIX_CACHE_URL
 * - iron-session: iron-session (the session sealed in the cookie itself), re-saved on every
 *   request so its expiry slides
 */
export interface Layer {
  /** Start a session for the bench user; the response's cookies come from next/headers. */
  login(): Promise<void>;
  /** The signed-in user's data, or undefined. */
  profile(): Promise<UserData | undefined>;
}

let layer: Promise<Layer> | undefined;

export function sessionLayer(): Promise<Layer> {
  layer ??= load(process.env.MODE ?? 'none');
  return layer;
}

async function load(mode: string): Promise<Layer> {
  switch (mode) {
    case 'none':
      return (await import('./none')).noneLayer();
    case 'lix':
      return (await import('./lix')).lixLayer(process.env.LIX_CACHE_URL!);
    case 'iron-session':
      return (await import('./iron')).ironLayer();
    default:
      throw new Error(`Unknown MODE ${mode}: use none, lix or iron-session.`);
  }
}
