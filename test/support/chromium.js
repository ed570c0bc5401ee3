// @ts-check
// Where Chromium is, and the flags that work on these machines (no sandbox as root, no network
// beyond loopback). CHROMIUM_PATH overrides the Debian default.
import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** @returns {string} */
export function chromiumPath() {
  return process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
}

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Background tabs must keep running their timers at full speed, as a user's visible tabs do.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** @returns {boolean} */
export function hasChromium() {
  return existsSync(chromiumPath());
}
