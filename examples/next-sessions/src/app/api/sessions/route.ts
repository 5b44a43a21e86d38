import { devicesJson } from 'lix-example-shared/sessions';
import { notAuthenticated, sessions, store } from '@/lib/sessions';

export const GET = sessions.route(async (_request, s) => {
  if (!s.session) return notAuthenticated();
  const list = await store.list(s.session.userId, { currentId: s.id });
  return Response.json(devicesJson(list));
});
