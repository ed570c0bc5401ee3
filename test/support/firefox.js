// @ts-check
// Where Firefox is: Debian's firefox-esr, driven over WebDriver BiDi by the Firefox end-to-end
// scenarios (test/scenarios, test/firefox), since Playwright's own Firefox build cannot be downloaded here.
// FIREFOX_PATH overrides the Debian default.
import { existsSync } from 'node:fs';

export const DEFAULT_FIREFOX = '/usr/bin/firefox-esr';

/** @returns {string} */
export function firefoxPath() {
  return process.env.FIREFOX_PATH || DEFAULT_FIREFOX;
}

/** @returns {boolean} */
export function hasFirefox() {
  return existsSync(firefoxPath());
}
