/**
 * One Next.js app, three ways to know who is asking. MODE (read at the first request) picks:
 * - none: no sessions at all (the framework's ceiling)
 * - lix: lix-cache-session/next on LIX_CACHE_URL
 * - iron-session: iron-session (the session sealed in the cookie itself), re-saved on every
 *   request so its expiry slides
 * The route files hand their requests to the chosen layer's handlers.
 */
export interface Layer {
  /** POST /login: start a session for the bench user. */
  login(request: Request): Promise<Response>;
  /** GET /api/profile: the signed-in user, or 401. */
  profile(request: Request): Promise<Response>;
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

export const notAuthenticated = () => Response.json({ error: 'Not authenticated' }, { status: 401 });
