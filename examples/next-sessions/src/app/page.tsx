import Link from 'next/link';

export default function Home() {
  return (
    <main>
      <h1>Lix Cache sessions on Next.js</h1>
      <p>
        <Link href="/login">Sign in</Link> (alice / wonderland), then see <Link href="/account">your account</Link>, a page behind the proxy guard.
      </p>
    </main>
  );
}
