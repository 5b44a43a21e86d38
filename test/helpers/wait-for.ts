/**
 * Poll `check` until it returns a truthy value or `timeoutMs` passes.
 * Tests wait on conditions this way instead of sleeping a fixed time.
 */
export async function waitFor<T>(check: () => T | Promise<T>, { timeoutMs = 5000, intervalMs = 25, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
