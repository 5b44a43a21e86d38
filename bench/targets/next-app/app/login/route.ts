import { sessionLayer } from '../../lib/layer';

export const dynamic = 'force-dynamic';

export async function POST(): Promise<Response> {
  await (await sessionLayer()).login();
  return Response.json({ message: 'Login successful' });
}
