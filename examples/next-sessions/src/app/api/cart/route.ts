import { jsonBody, notAuthenticated, sessions } from '@/lib/sessions';

// The cart of the signed-in user, or of the guest (stored on its first item, kept at login).
export const GET = sessions.route(async (_request, s) => {
  const data = s.session ?? s.guest;
  if (!data) return notAuthenticated();
  return Response.json({ cart: data.cart ?? [] });
});

export const POST = sessions.route(async (request, s) => {
  const data = s.session ?? s.guest;
  if (!data) return notAuthenticated();
  const { item } = await jsonBody(request);
  if (typeof item !== 'string' || item === '') return Response.json({ error: 'item must be a non-empty string' }, { status: 400 });
  data.cart = [...(data.cart ?? []), item];
  return Response.json({ cart: data.cart });
});
