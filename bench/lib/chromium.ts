// Debian's Chromium (/usr/bin/chromium) driven by playwright-core, for the page's browser tests
// and its bench: headless, a fresh profile per launch (playwright's own temporary one), and the
// switches that keep it from reaching for the internet (background networking, component
// updates, sync), which on a closed network only pile up and stall it.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export function findChromium(): string | undefined {
  return existsSync(CHROMIUM) ? CHROMIUM : undefined;
}

export async function launchChromium(): Promise<Browser> {
  if (!findChromium()) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root, Chromium refuses to start with its sandbox.
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-default-apps',
      '--disable-extensions',
    ],
    timeout: 60_000,
  });
}
