import type { DeviceSession } from 'lix-cache-session';
import type { AppSessionData } from 'lix-example-shared/sessions';
import { html, type Html } from './html';

/*
 * The pages' HTML: plain forms, no scripts and no inline styles (the Content-Security-Policy
 * allows neither); the look is /static/style.css. Every value goes through `html`, which escapes it.
 */

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

function time(ms: number): Html {
  const at = new Date(ms);
  return html`<time datetime="${at.toISOString()}">${dateTime.format(at)}</time>`;
}

/** The hidden field `csrfProtection()` reads from a form body. */
function csrfField(csrfToken: string | undefined): Html {
  return html`${csrfToken ? html`<input type="hidden" name="csrfToken" value="${csrfToken}">` : ''}`;
}

function postButton(action: string, label: string, csrfToken: string | undefined, className: string): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrfToken)}<button type="submit" class="${className}">${label}</button></form>`;
}

type Section = 'profile' | 'devices';

interface Layout {
  title: string;
  /** The signed-in user's name and token: shows the navigation and the log-out button. */
  user?: { username: string; csrfToken: string; section: Section };
  notice?: string;
  error?: string;
  body: Html;
}

function layout({ title, user, notice, error, body }: Layout): string {
  const link = (section: Section, label: string) => html`<a href="/${section}"${user?.section === section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Lix sessions</title>
<link rel="stylesheet" href="/static/style.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<header class="bar">
<a class="brand" href="/">Lix sessions</a>
${user ? html`<nav>${link('profile', 'Profile')}${link('devices', 'Devices')}<span class="who">${user.username}</span>${postButton('/logout', 'Log out', user.csrfToken, 'link')}</nav>` : ''}
</header>
<main>
<h1>${title}</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
${body}
</main>
</body>
</html>
`.markup;
}

export interface LoginView {
  csrfToken?: string;
  notice?: string;
  error?: string;
  username?: string;
  deviceName?: string;
  rememberMe?: boolean;
}

export function loginPage({ csrfToken, notice, error, username = '', deviceName = '', rememberMe = false }: LoginView): string {
  return layout({
    title: 'Sign in',
    notice,
    error,
    body: html`<form method="post" action="/login" class="card">
${csrfField(csrfToken)}
<label>Username <input name="username" value="${username}" autocomplete="username" required autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<label>Device name <input name="deviceName" value="${deviceName}" maxlength="100" placeholder="e.g. Laptop (default: your browser)"></label>
<label class="check"><input type="checkbox" name="rememberMe" value="on"${rememberMe ? html` checked` : ''}> Remember me</label>
<button type="submit" class="primary">Sign in</button>
</form>
<p class="hint">Demo users: alice / wonderland, bob / builder, carol / admin-carol.</p>`,
  });
}

export function profilePage(session: AppSessionData & { csrfToken: string }): string {
  return layout({
    title: `Hello, ${session.username}`,
    user: { username: session.username, csrfToken: session.csrfToken, section: 'profile' },
    body: html`<dl class="card facts">
<dt>Username</dt><dd>${session.username}</dd>
<dt>Email</dt><dd>${session.email}</dd>
<dt>Roles</dt><dd>${session.roles.join(', ')}</dd>
<dt>User id</dt><dd><code>${session.userId}</code></dd>
<dt>Signed in</dt><dd>${time(session.createdAt)}</dd>
</dl>
<p><a href="/devices">Your devices</a>: see where you are signed in, and sign other devices out.</p>`,
  });
}

export interface DevicesView {
  username: string;
  csrfToken: string;
  devices: DeviceSession[];
  notice?: string;
}

export function devicesPage({ username, csrfToken, devices, notice }: DevicesView): string {
  const rows = devices.map(
    (device) => html`<li class="device${device.current ? ' current' : ''}">
<div>
<strong>${device.deviceName}</strong>${device.current ? html` <span class="badge">this device</span>` : ''}
<small>${device.lastIP ?? 'address unknown'} · signed in ${time(device.createdAt)} · last active ${time(device.lastAccess)}</small>
</div>
${device.current ? '' : postButton(`/devices/${encodeURIComponent(device.handle)}/revoke`, 'Revoke', csrfToken, 'danger')}
</li>`,
  );
  return layout({
    title: 'Your devices',
    user: { username, csrfToken, section: 'devices' },
    notice,
    body: html`<ul class="card devices">
${rows}
</ul>
<div class="actions">${postButton('/logout-all', 'Log out everywhere', csrfToken, 'danger')} Ends every session above, this one too, and forgets remembered devices.</div>`,
  });
}
