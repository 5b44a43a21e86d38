import { notAuthenticated, sessions, store } from '@/lib/sessions';

export const GET = sessions.route(async (_request, s) => {
  if (!s.session) return notAuthenticated();
  const list = await store.list(s.session.userId, { currentId: s.id });
  return Response.json({
    sessions: list.map((device) => ({
      id: device.handle,
      deviceId: device.deviceId,
      deviceName: device.deviceName,
      lastIP: device.lastIP,
      lastAccess: new Date(device.lastAccess).toISOString(),
      createdAt: new Date(device.createdAt).toISOString(),
      current: device.current,
    })),
  });
});
