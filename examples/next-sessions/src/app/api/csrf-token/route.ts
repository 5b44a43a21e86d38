import { notAuthenticated, sessions } from '@/lib/sessions';

/** The token a client sends back as x-csrf-token (login returns it too): the session's, or a saved guest's. */
export const GET = sessions.route(async (_request, s) => {
  if (s.csrfToken === undefined) return notAuthenticated();
  return Response.json({ csrfToken: s.csrfToken });
});
