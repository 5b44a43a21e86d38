import type { SessionStore } from 'lix-cache-session';

/** Create `count` sessions of the seed's shape, `parallel` at a time (the SDK batches each wave). */
export async function createSessions(store: SessionStore, count: number, parallel = 1000): Promise<void> {
  for (let start = 0; start < count; start += parallel) {
    const wave = [];
    for (let i = start; i < Math.min(count, start + parallel); i++) {
      const userId = `user-${i % (count / 4)}`;
      wave.push(store.create(userId, { userId, username: `user${i}`, email: `user${i}@example.com` }, { ip: '203.0.113.7', userAgent: 'bench' }));
    }
    await Promise.all(wave);
  }
}
