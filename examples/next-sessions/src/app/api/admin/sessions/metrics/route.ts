import { notAuthenticated, sessions, store } from '@/lib/sessions';

export const GET = sessions.route(async (_request, { session }) => {
  if (!session) return notAuthenticated();
  if (!session.roles.includes('admin')) return Response.json({ error: 'Admins only' }, { status: 403 });
  return Response.json(await store.metrics());
});
