import type { Api } from './api';
import { byId, element } from './dom';
import { count, duration } from './format';

const PAGE_SIZE = 50;

/**
 * The key browser: a prefix search paged by the scan cursor, a key's value, TTL and tags, delete
 * and invalidate-by-tag behind a confirmation. Keys under the session prefix are listed masked and
 * cannot be opened: a session key is the hash of a session id, which the dashboard never shows.
 */
export class KeyBrowser {
  private cursor: string | null = null;
  private pages = 0;
  private selected: string | undefined;

  constructor(
    private readonly api: Api,
    private readonly sessionPrefix: () => string,
    private readonly fail: (error: unknown) => void,
  ) {
    byId('key-search').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.search(null);
    });
    byId('key-next').addEventListener('click', () => void this.search(this.cursor));
    byId('key-first').addEventListener('click', () => void this.search(null));
    byId('detail-delete').addEventListener('click', () => void this.deleteSelected());
    byId('invalidate').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.invalidate();
    });
  }

  /** Show the page of keys after `cursor` (null: the first page). */
  async search(cursor: string | null): Promise<void> {
    const prefix = byId<HTMLInputElement>('key-prefix').value;
    try {
      const page = await this.api.cache.scan(prefix, { limit: PAGE_SIZE, cursor, keysOnly: true });
      this.pages = cursor === null ? 1 : this.pages + 1;
      this.cursor = page.cursor;
      const hidden = this.sessionPrefix();
      byId('key-list').replaceChildren(
        ...page.keys.map((key) => {
          const row = element('tr');
          if (hidden !== '' && key.startsWith(hidden)) {
            row.append(element('td', `${hidden}… (session key, hidden)`, 'muted'));
          } else {
            const cell = element('td');
            const open = element('button', key, 'link key');
            open.type = 'button';
            open.addEventListener('click', () => void this.open(key));
            cell.append(open);
            row.append(cell);
          }
          return row;
        }),
      );
      byId('key-count').textContent = `${count(page.keys.length)} key${page.keys.length === 1 ? '' : 's'} on page ${this.pages}${page.cursor ? ', more after' : ''}`;
      byId('key-next').hidden = page.cursor === null;
      byId('key-first').hidden = this.pages <= 1;
    } catch (error) {
      this.fail(error);
    }
  }

  private async open(key: string): Promise<void> {
    try {
      const entry = await this.api.cache.getEntry(key, { withTags: true });
      this.selected = key;
      byId('key-detail').hidden = false;
      byId('detail-key').textContent = key;
      if (!entry) {
        byId('detail-ttl').textContent = '–';
        byId('detail-tags').textContent = '–';
        byId('detail-value').textContent = 'This key is gone (deleted or expired).';
        byId('detail-delete').hidden = true;
        return;
      }
      byId('detail-ttl').textContent = entry.ttl === null ? 'no expiry' : `${duration(entry.ttl)} (${entry.ttl} s)`;
      byId('detail-tags').textContent = entry.tags && entry.tags.length > 0 ? entry.tags.join(', ') : 'none';
      byId('detail-value').textContent = JSON.stringify(entry.value, null, 2);
      byId('detail-delete').hidden = false;
    } catch (error) {
      this.fail(error);
    }
  }

  private async deleteSelected(): Promise<void> {
    const key = this.selected;
    if (key === undefined || !confirm(`Delete the key "${key}"? This cannot be undone.`)) return;
    try {
      await this.api.cache.delete(key);
      byId('key-detail').hidden = true;
      this.selected = undefined;
      await this.search(null);
    } catch (error) {
      this.fail(error);
    }
  }

  private async invalidate(): Promise<void> {
    const tag = byId<HTMLInputElement>('invalidate-tag').value;
    if (tag === '' || !confirm(`Delete every key tagged "${tag}"? This cannot be undone.`)) return;
    try {
      const deleted = await this.api.cache.invalidate(tag);
      byId('invalidate-result').textContent = `Deleted ${count(deleted)} key${deleted === 1 ? '' : 's'} tagged "${tag}".`;
      await this.search(null);
    } catch (error) {
      this.fail(error);
    }
  }
}
