/**
 * @module browser: Debian's Chromium, driven by playwright-core, for the
 * browser tests. Never a downloaded browser: without /usr/bin/chromium the
 * tests are skipped with a notice, except under CI, where that is a failure.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const INSTALL_HINT = 'install it with `sudo apt-get install -y chromium` (Debian) and run npm test again';

/** Run the browser suites when Chromium is here, or under CI, where its absence must fail loudly. */
export const runBrowserTests = existsSync(CHROMIUM) || process.env.CI === 'true';

if (!runBrowserTests) {
  console.warn(`Browser tests skipped: no Chromium at ${CHROMIUM}; ${INSTALL_HINT}.`);
}

export const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

export interface Browser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile of its own, removed on close. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`CI=true needs Chromium at ${CHROMIUM}: ${INSTALL_HINT}.`);
  const profile = await mkdtemp(join(tmpdir(), 'xstate-chat-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1100, height: 760 },
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test/screenshots/ (ignored by git) for a reviewer to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Collects uncaught page errors and dialogs, which no test page should ever produce. */
export function watchForTrouble(page: Page): string[] {
  const trouble: string[] = [];
  page.on('pageerror', (error) => trouble.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    trouble.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return trouble;
}
