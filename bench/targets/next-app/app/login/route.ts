import { sessionLayer } from '../../lib/layer';

export const dynamic = 'force-dynamic';

export async function POST(request: Request): Promise<Response> {
  return (await sessionLayer()).login(request);
}
