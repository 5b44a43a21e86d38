import { type LixError, lixError } from './commands/errors';

/**
 * Whether `error` is Node failing to find the package `pkg` itself (an ESM import's
 * ERR_MODULE_NOT_FOUND or a require's MODULE_NOT_FOUND), not some module inside it.
 */
export function isMissingPackage(error: unknown, pkg: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${pkg}'`);
}

/**
 * `load()`, a module that needs the optional peer dependency `pkg`. When `pkg` is not
 * installed, throws LixError `missing_dependency`, saying that `feature` needs it and how to install it.
 */
export async function importWithPeer<T>(load: () => Promise<T>, pkg: string, feature: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw isMissingPackage(error, pkg) ? missingPeer(feature, pkg, error) : error;
  }
}

/** The `missing_dependency` error for `feature`, which needs the package `pkg`; `cause` is Node's own error. */
export function missingPeer(feature: string, pkg: string, cause: unknown): LixError {
  const error = lixError('missing_dependency', feature, pkg);
  error.cause = cause;
  return error;
}
