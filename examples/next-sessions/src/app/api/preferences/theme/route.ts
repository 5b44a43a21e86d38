import { jsonBody, notAuthenticated, sessions } from '@/lib/sessions';

// The guest's theme is not kept at login (guest.keep is ['cart'] only).
export const PUT = sessions.route(async (request, s) => {
  const data = s.session ?? s.guest;
  if (!data) return notAuthenticated();
  const { theme } = await jsonBody(request);
  if (theme !== 'light' && theme !== 'dark') return Response.json({ error: 'theme must be "light" or "dark"' }, { status: 400 });
  data.theme = theme;
  return Response.json({ theme });
});
