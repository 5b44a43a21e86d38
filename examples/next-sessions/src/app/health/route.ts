// Answered per request (never prerendered at build): a liveness probe.
export const dynamic = 'force-dynamic';

export function GET() {
  return Response.json({ status: 'ok' });
}
