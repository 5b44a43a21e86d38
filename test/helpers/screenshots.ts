import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

/** Where browser tests leave their screenshots (git-ignored): `test-output/screenshots/` at the repository root. */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

/** Save what `page` shows as `<name>.jpeg`: JPEG at quality 70 keeps a page under ~100 KB. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.jpeg`;
  await page.screenshot({ path, type: 'jpeg', quality: 70 });
  return path;
}
