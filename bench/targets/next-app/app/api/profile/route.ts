import { sessionLayer } from '../../../lib/layer';

export const dynamic = 'force-dynamic';

export async function GET(request: Request): Promise<Response> {
  return (await sessionLayer()).profile(request);
}
