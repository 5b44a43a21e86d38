import { jsonBody, sessions } from '@/lib/sessions';
import { sessionDataOf } from 'lix-example-shared/sessions';
import { validateCredentials } from 'lix-example-shared/users';

export const POST = sessions.route(async (request, s) => {
  const { username, password, rememberMe, deviceName } = await jsonBody(request);
  const user = await validateCredentials(username, password);
  if (!user) return Response.json({ error: 'Invalid credentials' }, { status: 401 });
  // A new session id at every login (no session fixation); the guest's cart moves in.
  const session = await s.login(sessionDataOf(user), {
    rememberMe: rememberMe === true,
    device: typeof deviceName === 'string' ? { name: deviceName.slice(0, 100) } : undefined,
  });
  return Response.json({ message: 'Login successful', csrfToken: session.csrfToken });
});
