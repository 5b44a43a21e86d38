import { LixAuthError, LixCache } from 'lix-cache-sdk';

const KEY_STORAGE = 'lix-cache-api-key';

/** The server's answer of `GET /cache/info` (see the server's docs/protocol.md). */
export interface ServerInfo {
  version: string;
  uptime: number;
  store: string;
  persistence: { kind: 'none' } | { kind: 'data-dir'; dataDir: string; fsync: string } | { kind: 'redis' };
  health: { ok: boolean; code?: string; message?: string };
  auth: boolean;
  operations: Record<string, number>;
  errors: Record<string, number>;
}

/**
 * The dashboard's line to the server it was served by: the SDK for cache commands, fetch for
 * `/cache/info`. The API key lives in this tab's sessionStorage only: never a cookie (sent by the
 * browser on its own) or the URL (kept in history and logs).
 */
export class Api {
  private key = sessionStorage.getItem(KEY_STORAGE) ?? undefined;
  cache = this.client();

  get signedIn(): boolean {
    return this.key !== undefined;
  }

  /** Try `key`; keep it only when the server takes it. */
  async signIn(key: string): Promise<ServerInfo> {
    const previous = this.key;
    this.key = key;
    try {
      const info = await this.info();
      sessionStorage.setItem(KEY_STORAGE, key);
      this.replaceClient();
      return info;
    } catch (error) {
      this.key = previous;
      throw error;
    }
  }

  signOut(): void {
    sessionStorage.removeItem(KEY_STORAGE);
    this.key = undefined;
    this.replaceClient();
  }

  info(): Promise<ServerInfo> {
    return this.fetchJson<ServerInfo>('/cache/info');
  }

  private async fetchJson<T>(path: string): Promise<T> {
    const response = await fetch(path, { headers: this.key ? { authorization: `Bearer ${this.key}` } : {}, cache: 'no-store' });
    if (response.status === 401) throw new LixAuthError('The server refused this API key.');
    const body = (await response.json()) as T & { error?: string };
    if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
    return body;
  }

  private replaceClient(): void {
    void this.cache.close();
    this.cache = this.client();
  }

  private client(): LixCache {
    // No retries: a dashboard shows the failure and polls again a second later.
    return new LixCache({ url: location.origin, apiKey: this.key, maxRetries: 0, timeout: 5000 });
  }
}
