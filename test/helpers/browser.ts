import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, as the README's test line installs it. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_APT = 'S=$(command -v sudo); $S apt-get update && $S apt-get install -y chromium';

/**
 * The real browser for the fleet page's tests. Missing chromium fails the test (it is part of the test line),
 * saying how to install it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}: ${CHROMIUM_APT}`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}
