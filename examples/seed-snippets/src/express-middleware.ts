// Seed: session-management.md, "Express Middleware > Session Middleware".

// ---- harness (not from the seed) ----
import { sessions } from './simple-session-store';
import { validateCredentials } from './harness';

// ---- seed, verbatim ----
import express from 'express';
import cookieParser from 'cookie-parser';

const app = express();
app.use(cookieParser());

// Session middleware
app.use(async (req, res, next) => {
  const sessionId = req.cookies.sessionId;

  if (sessionId) {
    const session = await sessions.get(sessionId);

    if (session) {
      // Attach session to request
      req.session = session;
    } else {
      // Invalid/expired session
      res.clearCookie('sessionId');
    }
  }

  next();
});

// Login route
app.post('/api/login', async (req, res) => {
  const { username, password } = req.body;

  // Validate credentials (example)
  const user = await validateCredentials(username, password);

  if (!user) {
    return res.status(401).json({ error: 'Invalid credentials' });
  }

  // Create session
  const sessionId = await sessions.create(user.id, {
    userId: user.id,
    username: user.username,
    email: user.email
  });

  // Set cookie
  res.cookie('sessionId', sessionId, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    maxAge: 3600000 // 1 hour
  });

  res.json({ message: 'Login successful' });
});

// Logout route
app.post('/api/logout', async (req, res) => {
  const sessionId = req.cookies.sessionId;

  if (sessionId) {
    await sessions.delete(sessionId);
    res.clearCookie('sessionId');
  }

  res.json({ message: 'Logout successful' });
});

// Protected route
app.get('/api/profile', async (req, res) => {
  if (!req.session) {
    return res.status(401).json({ error: 'Not authenticated' });
  }

  res.json({
    userId: req.session.userId,
    username: req.session.username,
    email: req.session.email
  });
});
// ---- end of seed ----

// ---- harness (not from the seed) ----
export { app };
