import type { ChangeListener, Watch } from './engine';

/**
 * The listeners of one engine's `watch`, and what it tells them. Engines call
 * `changed` on every change; with no listener that is one size check.
 */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private up: boolean;
  private warned = false;

  constructor(
    live: boolean,
    /** Called when the first listener arrives (start a feed) and the last leaves (stop it). */
    private readonly onUse?: (used: boolean) => void,
  ) {
    this.up = live;
  }

  /** Whether any listener is registered. */
  get used(): boolean {
    return this.listeners.size > 0;
  }

  get live(): boolean {
    return this.up;
  }

  watch(listener: ChangeListener): Watch {
    if (typeof listener?.changed !== 'function' || typeof listener.changedAll !== 'function' || typeof listener.live !== 'function') {
      throw new TypeError('watch(listener) takes an object with changed(key), changedAll() and live(up) methods.');
    }
    const first = this.listeners.size === 0;
    this.listeners.add(listener);
    if (first) this.onUse?.(true);
    const feed = this;
    return {
      get live() {
        return feed.up;
      },
      close() {
        if (feed.listeners.delete(listener) && feed.listeners.size === 0) feed.onUse?.(false);
      },
    };
  }

  changed(key: string): void {
    this.tell('changed', key);
  }

  changedAll(): void {
    this.tell('changedAll');
  }

  /** The feed went down or came back; listeners hear of it once per transition. */
  setLive(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.tell('live', up);
  }

  /** Call `method` of every listener; a method name, not a closure, so a change allocates nothing. */
  private tell(method: keyof ChangeListener, argument?: string | boolean): void {
    for (const listener of this.listeners) {
      try {
        (listener[method] as (this: ChangeListener, argument?: string | boolean) => void).call(listener, argument);
      } catch (error) {
        this.threw(error);
      }
    }
  }

  /**
   * A listener broke its promise not to throw. Its error must not reach the engine (a write
   * in progress, or Redis's reply parser) nor keep the other listeners from hearing of the
   * change, so it is ignored, with one warning per feed so it does not go unnoticed.
   */
  private threw(error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const message = `A ChangeListener passed to Engine.watch threw (${String(error)}); it was ignored. Listeners must not throw: catch inside changed, changedAll and live.`;
    // This module also runs where there is no `process` (the SDK's browser build).
    if (typeof process === 'object' && typeof process.emitWarning === 'function') process.emitWarning(message, { type: 'LixCacheWarning', code: 'LIX_LISTENER_THREW' });
    else console.warn(message);
  }
}
