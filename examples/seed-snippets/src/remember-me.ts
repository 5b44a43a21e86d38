// Seed: session-management.md, "Advanced Session Features > Remember Me Feature".

// ---- harness (not from the seed) ----
import { randomUUID } from 'crypto';
import { cache, sessions } from './simple-session-store';
import { harnessApp, loadUser, validateCredentials } from './harness';

// Its own app: a second POST /api/login on the Session Middleware's app would never be reached.
const app = harnessApp();

// ---- seed, verbatim ----
interface RememberMeToken {
  userId: string;
  createdAt: number;
}

async function createRememberMeToken(userId: string): Promise<string> {
  const token = randomUUID();
  const data: RememberMeToken = {
    userId,
    createdAt: Date.now()
  };

  // 30 days TTL
  await cache.set(`remember:${token}`, data, { ttl: 2592000 });

  return token;
}

async function validateRememberMeToken(token: string): Promise<string | null> {
  const data = await cache.get<RememberMeToken>(`remember:${token}`);

  if (!data) return null;

  // Check if token is too old (30 days)
  const age = Date.now() - data.createdAt;
  if (age > 2592000000) {
    await cache.delete(`remember:${token}`);
    return null;
  }

  return data.userId;
}

// Login with "Remember Me"
app.post('/api/login', async (req, res) => {
  const { username, password, rememberMe } = req.body;

  const user = await validateCredentials(username, password);
  if (!user) {
    return res.status(401).json({ error: 'Invalid credentials' });
  }

  // Create regular session
  const sessionId = await sessions.create(user.id, user);

  res.cookie('sessionId', sessionId, {
    httpOnly: true,
    maxAge: 3600000 // 1 hour
  });

  // Create remember-me token if requested
  if (rememberMe) {
    const rememberToken = await createRememberMeToken(user.id);

    res.cookie('rememberMe', rememberToken, {
      httpOnly: true,
      secure: true,
      maxAge: 2592000000 // 30 days
    });
  }

  res.json({ message: 'Login successful' });
});

// Auto-login with remember-me token
app.use(async (req, res, next) => {
  // Skip if already has session
  if (req.session) return next();

  const rememberToken = req.cookies.rememberMe;
  if (!rememberToken) return next();

  const userId = await validateRememberMeToken(rememberToken);
  if (!userId) {
    res.clearCookie('rememberMe');
    return next();
  }

  // Load user and create new session
  const user = await loadUser(userId);
  const sessionId = await sessions.create(userId, user);

  res.cookie('sessionId', sessionId, {
    httpOnly: true,
    maxAge: 3600000
  });

  req.session = await sessions.get(sessionId);
  next();
});
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { app, createRememberMeToken, validateRememberMeToken, type RememberMeToken };
