import { SessionStore } from 'lix-cache-session';
import type { Api } from './api';
import { byId, show } from './dom';
import { count, duration } from './format';

/**
 * The sessions tab: `SessionStore.metrics()` over the sessions under a prefix, computed here with
 * the session library itself, so the counts are the ones an app's admin route reports. It scans
 * every session, so it runs when the tab is opened and every 5 s while it is shown, not every second.
 */
export class SessionsView {
  constructor(
    private readonly api: Api,
    private readonly fail: (error: unknown) => void,
  ) {
    byId('session-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.refresh();
    });
  }

  /** The prefix the sessions are stored under, also hidden by the key browser. */
  prefix(): string {
    return byId<HTMLInputElement>('session-prefix').value;
  }

  async refresh(): Promise<void> {
    try {
      const metrics = await new SessionStore({ cache: this.api.cache, prefix: this.prefix() }).metrics();
      byId('sessions-empty').hidden = metrics.totalSessions > 0;
      byId('session-cards').hidden = metrics.totalSessions === 0;
      show('session', 'totalSessions', count(metrics.totalSessions));
      show('session', 'activeSessions', count(metrics.activeSessions));
      show('session', 'uniqueUsers', count(metrics.uniqueUsers));
      show('session', 'averageSessionLength', duration(metrics.averageSessionLength / 1000));
    } catch (error) {
      this.fail(error);
    }
  }
}
