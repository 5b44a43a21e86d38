import type { Command } from 'commander';
import { LixCache } from 'lix-cache-sdk';
import { explain } from './errors';
import { settingsOf, type Settings } from './settings';

/** A client for `settings`; the SDK's warnings (e.g. a remote server without an API key) go to stderr. */
export function openClient(settings: Settings): LixCache {
  return new LixCache({
    url: settings.url,
    apiKey: settings.apiKey,
    timeout: settings.timeout,
    logger: { warn: (message) => process.stderr.write(`lix-cache: warning: ${message.replace(/^lix-cache-sdk: /, '')}\n`) },
  });
}

/**
 * Run `work` with a client for `command`'s global options, then close it. SDK errors come
 * out as CliErrors worded for the command line (see `explain`).
 */
export async function withClient<T>(command: Command, work: (cache: LixCache, settings: Settings) => Promise<T>): Promise<T> {
  const settings = settingsOf(command);
  const cache = openClient(settings);
  try {
    return await work(cache, settings);
  } catch (error) {
    throw explain(error, { command: command.name(), url: settings.url, hasApiKey: settings.apiKey !== undefined, timeout: settings.timeout });
  } finally {
    await cache.close();
  }
}
