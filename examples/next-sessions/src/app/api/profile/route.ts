import { notAuthenticated, sessions } from '@/lib/sessions';

export const GET = sessions.route(async (_request, { session }) => {
  if (!session) return notAuthenticated();
  return Response.json({ userId: session.userId, username: session.username, email: session.email, roles: session.roles });
});
