import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LixCache } from 'lix-cache-sdk';
import { SessionStore } from 'lix-cache-session';
import { startRedis } from '../../test/helpers/redis-process';
import { startServer } from '../../test/helpers/server-process';
import { rssBytes } from '../lib/processes';
import type { BenchSettings, Section } from '../lib/report';
import { createSessions } from '../lib/sessions';
import { formatNumber, ratio } from '../lib/stats';

const run = promisify(execFile);
const SESSIONS = 100_000;

async function redisMemory(port: number): Promise<{ used: number; rss: number }> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'memory']);
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stdout)?.[1]);
  return { used: field('used_memory'), rss: field('used_memory_rss') };
}

/**
 * Memory per session: 100,000 sessions of the seed's shape, created through
 * SessionStore (so hashed ids, tags and all), held by the Lix memory engine
 * (a Lix server process: growth of its resident memory) and by Redis (INFO
 * memory: used_memory, and resident memory for the like-for-like view).
 */
export async function memory(_settings: BenchSettings): Promise<Section> {
  const lix = await startServer();
  const redis = await startRedis();
  const lixCache = new LixCache({ url: lix.url });
  const redisCache = new LixCache({ url: `${redis.url}?keyPrefix=lixbench:` });
  try {
    const lixBefore = await rssBytes(lix.process.pid!);
    await createSessions(new SessionStore({ cache: lixCache, ttl: 3600 }), SESSIONS);
    const lixAfter = await rssBytes(lix.process.pid!);
    const lixEstimate = (await lixCache.stats()).memory;

    const redisBefore = await redisMemory(redis.port);
    await createSessions(new SessionStore({ cache: redisCache, ttl: 3600 }), SESSIONS);
    const redisAfter = await redisMemory(redis.port);

    const per = (bytes: number) => formatNumber(bytes / SESSIONS);
    const lixRss = lixAfter - lixBefore;
    const redisUsed = redisAfter.used - redisBefore.used;
    const redisRss = redisAfter.rss - redisBefore.rss;
    return {
      title: `Memory per session (${formatNumber(SESSIONS)} sessions of the seed's shape)`,
      header: ['held by', 'bytes per session', 'measured as', 'vs Redis used_memory'],
      rows: [
        ['Lix memory engine (server process)', per(lixRss), 'growth of resident memory (RSS)', ratio(lixRss, redisUsed)],
        ['Lix memory engine (its own estimate)', per(lixEstimate), 'stats().memory', ratio(lixEstimate, redisUsed)],
        ['redis-server', per(redisUsed), 'INFO memory used_memory', '1.00×'],
        ['redis-server', per(redisRss), 'INFO memory used_memory_rss growth', ratio(redisRss, redisUsed)],
      ],
      notes: [
        'Both hold the same sessions, written by the same SessionStore code. Target: Lix ≤ Redis.',
        "Resident memory of a Node.js process includes V8's heap headroom (it grows its heap ahead of what is live); the estimate counts the stored data and index entries.",
      ],
    };
  } finally {
    await Promise.all([lixCache.close(), redisCache.close()]);
    await Promise.all([lix.stop(), redis.stop()]);
  }
}
