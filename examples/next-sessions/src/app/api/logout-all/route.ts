import { notAuthenticated, sessions } from '@/lib/sessions';

export const POST = sessions.route(async (_request, s) => {
  if (!s.session) return notAuthenticated();
  await s.logoutAll();
  return Response.json({ message: 'Logged out from all devices' });
});
