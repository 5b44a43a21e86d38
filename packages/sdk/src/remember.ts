/**
 * One computation per key at a time: callers that ask for a key while its
 * computation runs share that computation's promise (no thundering herd).
 */
export class Inflight {
  private readonly running = new Map<string, Promise<unknown>>();

  share<T>(key: string, start: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) return running as Promise<T>;
    const promise = start().finally(() => this.running.delete(key));
    this.running.set(key, promise);
    return promise;
  }
}
