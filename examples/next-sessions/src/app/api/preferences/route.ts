import { notAuthenticated, sessions } from '@/lib/sessions';

export const GET = sessions.route(async (_request, s) => {
  const data = s.session ?? s.guest;
  if (!data) return notAuthenticated();
  return Response.json({ theme: data.theme ?? 'light', cart: data.cart ?? [] });
});
