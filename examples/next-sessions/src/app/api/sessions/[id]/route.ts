import { notAuthenticated, sessions, store } from '@/lib/sessions';

// Only the signed-in user's own sessions can be revoked: the handle is looked up among them.
export const DELETE = sessions.route(async (_request, s, { params }: { params: Promise<{ id: string }> }) => {
  if (!s.session) return notAuthenticated();
  const revoked = await store.revoke(s.session.userId, (await params).id);
  if (!revoked) return Response.json({ error: 'Session not found' }, { status: 404 });
  return Response.json({ message: 'Session revoked' });
});
