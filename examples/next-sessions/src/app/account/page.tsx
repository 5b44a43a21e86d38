import { redirect } from 'next/navigation';
import { sessions } from '@/lib/sessions';

/**
 * Behind the proxy guard (src/proxy.ts), which has checked the session and signed remembered
 * users in. A Server Component cannot set cookies, so it reads the session with read().
 */
export default async function AccountPage() {
  const { session } = await sessions.read();
  if (!session) redirect('/login?next=/account');
  return (
    <main>
      <h1>Account</h1>
      <p data-testid="username">Signed in as {session.username}</p>
      <p>Email: {session.email}</p>
      <p>Theme: {session.theme ?? 'light'}</p>
    </main>
  );
}
