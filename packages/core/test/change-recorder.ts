import { waitFor } from '../../../test/helpers/wait-for';
import type { ChangeListener, Engine, Watch } from '../src/commands/engine';

/** What a recording listener heard. */
export interface Heard {
  keys: Set<string>;
  all: number;
  live: boolean[];
}

/**
 * A recording listener on `engine`, registered (and pushed to `watches`, for the caller to
 * close) and live: Redis sets its feed up asynchronously, so that is waited for, bounded.
 */
export async function watching(engine: Engine, watches: Watch[]): Promise<{ heard: Heard; watch: Watch }> {
  const heard: Heard = { keys: new Set(), all: 0, live: [] };
  const listener: ChangeListener = {
    changed: (key) => void heard.keys.add(key),
    changedAll: () => void heard.all++,
    live: (up) => void heard.live.push(up),
  };
  const watch = engine.watch(listener);
  watches.push(watch);
  await waitFor(() => watch.live, { what: 'watch.live' });
  return { heard, watch };
}
