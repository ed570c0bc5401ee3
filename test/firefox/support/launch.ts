import puppeteer, { type Browser } from 'puppeteer-core';
import { firefoxPath } from '../../support/firefox.js';

/**
 * Background tabs must run their timers at full speed, as a user's visible tabs do (Chromium's
 * suite passes the matching flags): Firefox clamps background timeouts to 1 s and then budgets
 * them, which would turn a leader's 50 ms window into seconds.
 */
const PREFS = {
  'dom.min_background_timeout_value': 4,
  'dom.min_background_timeout_value_without_budget_throttling': 4,
  'dom.timeout.enable_budget_timer_throttling': false,
};

/**
 * Starts Debian's Firefox ESR (see test/support/firefox.js), headless, driven over WebDriver BiDi.
 * The caller closes it.
 */
export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({ browser: 'firefox', executablePath: firefoxPath(), headless: true, extraPrefsFirefox: PREFS });
}
