import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (no browser download: the registry is all we have). */
export const CHROMIUM = '/usr/bin/chromium';

/** For `describe(…, { skip })`: false where Chromium is installed, else why the suite is skipped. */
export const chromiumMissing: string | false = existsSync(CHROMIUM)
  ? false
  : `no ${CHROMIUM}: apt-get install -y chromium (scripts/services.sh does)`;

/** Headless Chromium as the browser tests run it: no sandbox (root in CI), no background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 120_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
