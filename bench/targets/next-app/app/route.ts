export const dynamic = 'force-dynamic';

/** Readiness probe. */
export function GET(): Response {
  return Response.json({ mode: process.env.MODE ?? 'none' });
}
