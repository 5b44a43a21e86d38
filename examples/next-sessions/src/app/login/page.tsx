import { redirect } from 'next/navigation';
import { sessions } from '@/lib/sessions';
import { sessionDataOf } from 'lix-example-shared/sessions';
import { validateCredentials } from 'lix-example-shared/users';

/** Only paths on this site: `?next=https://evil.example` must not become an open redirect. */
function localPath(value: FormDataEntryValue | null): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') ? value : '/account';
}

/** A Server Action: Next.js checks its Origin against the host, so it needs no CSRF token. */
async function login(formData: FormData) {
  'use server';
  const user = await validateCredentials(formData.get('username'), formData.get('password'));
  const next = localPath(formData.get('next'));
  if (!user) redirect(`/login?error=1&next=${encodeURIComponent(next)}`);
  const s = await sessions.get();
  await s.login(sessionDataOf(user), { rememberMe: formData.get('rememberMe') === 'on' });
  redirect(next);
}

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { next, error } = await searchParams;
  return (
    <main>
      <h1>Sign in</h1>
      {error ? <p role="alert">Invalid credentials</p> : null}
      <form action={login}>
        <input type="hidden" name="next" value={typeof next === 'string' ? next : '/account'} />
        <label>
          Username <input name="username" autoComplete="username" required />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <label>
          <input name="rememberMe" type="checkbox" /> Remember me
        </label>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
