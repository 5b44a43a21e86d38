import { sessionLayer } from '../../../lib/layer';

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const data = await (await sessionLayer()).profile();
  if (!data) return Response.json({ error: 'Not authenticated' }, { status: 401 });
  return Response.json({ userId: data.userId, username: data.username, email: data.email });
}
