// Seed: session-management.md, "Advanced Session Features > Multi-Device Sessions".

// ---- harness (not from the seed) ----
import { randomUUID } from 'crypto';
import { cache, type Session } from './simple-session-store';
import { harnessApp } from './harness';

const app = harnessApp();

// ---- seed, verbatim ----
interface DeviceSession extends Session {
  deviceId: string;
  deviceName: string;
  lastIP: string;
}

class MultiDeviceSessionStore {
  async create(userId: string, device: { id: string; name: string; ip: string }): Promise<string> {
    const sessionId = randomUUID();
    // @ts-expect-error seed type error (not a Lix Cache one): DeviceSession extends Session, which requires username and email; this literal has neither.
    const session: DeviceSession = {
      userId,
      deviceId: device.id,
      deviceName: device.name,
      lastIP: device.ip,
      createdAt: Date.now(),
      lastAccess: Date.now()
    };

    // Store session
    await cache.set(`session:${sessionId}`, session, { ttl: 3600 });

    // Track user's active sessions
    const userSessions: string[] = await cache.get(`user:${userId}:sessions`) || [];
    userSessions.push(sessionId);
    await cache.set(`user:${userId}:sessions`, userSessions, { ttl: 86400 });

    return sessionId;
  }

  async getUserSessions(userId: string): Promise<DeviceSession[]> {
    const sessionIds: string[] = await cache.get(`user:${userId}:sessions`) || [];

    const sessions = await Promise.all(
      sessionIds.map(id => cache.get<DeviceSession>(`session:${id}`))
    );

    // Filter out expired sessions
    return sessions.filter((s): s is DeviceSession => s !== null);
  }

  async deleteAllUserSessions(userId: string): Promise<void> {
    const sessionIds: string[] = await cache.get(`user:${userId}:sessions`) || [];

    // Delete all sessions
    await Promise.all(sessionIds.map(id => cache.delete(`session:${id}`)));

    // Clear session list
    await cache.delete(`user:${userId}:sessions`);
  }

  async deleteSession(sessionId: string): Promise<void> {
    const session = await cache.get<DeviceSession>(`session:${sessionId}`);

    if (session) {
      // Remove from user's session list
      const userSessions: string[] = await cache.get(`user:${session.userId}:sessions`) || [];
      const filtered = userSessions.filter(id => id !== sessionId);
      await cache.set(`user:${session.userId}:sessions`, filtered, { ttl: 86400 });
    }

    await cache.delete(`session:${sessionId}`);
  }
}

// Usage: View active sessions
app.get('/api/sessions', async (req, res) => {
  if (!req.session) {
    return res.status(401).json({ error: 'Not authenticated' });
  }

  const sessions = await multiDeviceSessions.getUserSessions(req.session.userId);

  res.json({
    sessions: sessions.map(s => ({
      deviceId: s.deviceId,
      deviceName: s.deviceName,
      lastIP: s.lastIP,
      lastAccess: new Date(s.lastAccess).toISOString(),
      // @ts-expect-error seed type error (not a Lix Cache one): the `if (!req.session)` check does not narrow req.session inside this callback.
      current: s.deviceId === req.session.deviceId
    }))
  });
});

// Usage: Revoke specific session
app.delete('/api/sessions/:sessionId', async (req, res) => {
  if (!req.session) {
    return res.status(401).json({ error: 'Not authenticated' });
  }

  await multiDeviceSessions.deleteSession(req.params.sessionId);

  res.json({ message: 'Session revoked' });
});

// Usage: Revoke all sessions (logout everywhere)
app.post('/api/logout-all', async (req, res) => {
  if (!req.session) {
    return res.status(401).json({ error: 'Not authenticated' });
  }

  await multiDeviceSessions.deleteAllUserSessions(req.session.userId);

  res.clearCookie('sessionId');
  res.json({ message: 'Logged out from all devices' });
});
// ---- end of seed ----

// ---- harness (not from the seed) ----
const multiDeviceSessions = new MultiDeviceSessionStore();

export { app, MultiDeviceSessionStore, multiDeviceSessions, type DeviceSession };
