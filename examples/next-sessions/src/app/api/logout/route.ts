import { sessions } from '@/lib/sessions';

export const POST = sessions.route(async (_request, s) => {
  await s.logout();
  return Response.json({ message: 'Logout successful' });
});
