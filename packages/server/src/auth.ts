import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Build the Bearer check for a set of API keys. Keys are compared as SHA-256
 * digests with `timingSafeEqual`, so neither the content nor the length of a
 * key leaks through response timing; every key is compared, with no early exit.
 */
export function createKeyCheck(apiKeys: readonly string[]): (authorization: string | undefined) => boolean {
  const digests = apiKeys.map(digest);
  return (authorization) => {
    if (authorization === undefined || authorization.length < 8) return false;
    // "Bearer " is matched case-insensitively, as RFC 6750 allows.
    if (authorization.slice(0, 7).toLowerCase() !== 'bearer ') return false;
    const candidate = digest(authorization.slice(7).trim());
    let match = false;
    for (const known of digests) match = timingSafeEqual(candidate, known) || match;
    return match;
  };
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
