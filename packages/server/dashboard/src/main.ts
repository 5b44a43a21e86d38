import './style.css';
import { LixAuthError } from 'lix-cache-sdk';
import { Api } from './api';
import { alertBanner, byId } from './dom';
import { KeyBrowser } from './keys';
import { Overview } from './overview';
import { SessionsView } from './sessions';

const POLL_MS = 1000;
const SESSIONS_POLL_MS = 5000;
type Tab = 'overview' | 'keys' | 'sessions';

const api = new Api();
let tab: Tab = 'overview';
let overview: Overview | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let lastSessions = 0;

/** Show a failed call: a refused key goes back to the sign-in form, anything else to the banner. */
function fail(error: unknown): void {
  if (error instanceof LixAuthError) return signInForm(api.signedIn ? 'The server refused the API key: sign in again.' : undefined);
  alertBanner(`${error instanceof Error ? error.message : String(error)}`);
}

const sessions = new SessionsView(api, fail);
const keys = new KeyBrowser(api, () => sessions.prefix(), fail);

function signInForm(message?: string): void {
  stop();
  api.signOut();
  for (const id of ['overview', 'keys', 'sessions', 'tabs', 'sign-out']) byId(id).hidden = true;
  byId('login').hidden = false;
  byId('login-error').hidden = message === undefined;
  byId('login-error').textContent = message ?? '';
  byId<HTMLInputElement>('api-key').focus();
}

function stop(): void {
  clearTimeout(timer);
  timer = undefined;
}

function select(next: Tab): void {
  tab = next;
  for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button')) button.setAttribute('aria-selected', String(button.dataset.tab === next));
  for (const id of ['overview', 'keys', 'sessions'] as const) byId(id).hidden = id !== next;
  if (next === 'keys') void keys.search(null);
  if (next === 'sessions') {
    lastSessions = Date.now();
    void sessions.refresh();
  }
}

/** One round of polling; the next starts a second after this one ends, so slow answers never pile up. */
async function poll(): Promise<void> {
  try {
    const [stats, info] = await Promise.all([api.cache.stats(), api.info()]);
    alertBanner(undefined);
    overview ??= new Overview();
    overview.update(stats, info, Date.now());
    byId('server').textContent = `${location.host}${info.auth ? '' : ' · auth off'}`;
    if (tab === 'sessions' && Date.now() - lastSessions >= SESSIONS_POLL_MS) {
      lastSessions = Date.now();
      await sessions.refresh();
    }
  } catch (error) {
    if (error instanceof LixAuthError) return fail(error);
    alertBanner(`Cannot reach the server: ${error instanceof Error ? error.message : String(error)}. Retrying every second.`);
  }
  timer = setTimeout(() => void poll(), POLL_MS);
}

function start(authOn: boolean): void {
  byId('login').hidden = true;
  byId('tabs').hidden = false;
  byId('sign-out').hidden = !authOn;
  select(tab);
  stop();
  void poll();
}

byId('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('api-key');
  const key = input.value.trim();
  if (key === '') return signInForm('Paste one of the server\'s API keys (LIX_API_KEYS).');
  api.signIn(key).then(
    (info) => {
      input.value = '';
      start(info.auth);
    },
    (error: unknown) => signInForm(error instanceof LixAuthError ? 'The server refused that API key.' : `Cannot reach the server: ${String(error)}`),
  );
});
byId('sign-out').addEventListener('click', () => signInForm());
for (const button of document.querySelectorAll<HTMLButtonElement>('#tabs button')) button.addEventListener('click', () => select(button.dataset.tab as Tab));

api.info().then(
  (info) => start(info.auth),
  (error: unknown) => (error instanceof LixAuthError ? signInForm(api.signedIn ? 'The server refused the saved API key: sign in again.' : undefined) : fail(error)),
);
