// @ts-check
// Where WebKit is: Debian's WebKitGTK, driven by its WebDriver (webkit2gtk-driver) in MiniBrowser
// (which comes with libwebkit2gtk-4.1-0) on a virtual X display (xvfb). WEBKIT_DRIVER_PATH,
// MINIBROWSER_PATH and XVFB_PATH override the Debian defaults.
import { existsSync, readdirSync } from 'node:fs';

export const DEFAULT_WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
export const DEFAULT_XVFB = '/usr/bin/Xvfb';

/** @returns {string} */
export function webkitDriverPath() {
  return process.env.WEBKIT_DRIVER_PATH || DEFAULT_WEBKIT_DRIVER;
}

/**
 * MiniBrowser lives in the library's directory, which is named after the machine's multiarch
 * triplet (x86_64-linux-gnu, aarch64-linux-gnu, ...).
 * @returns {string}
 */
export function miniBrowserPath() {
  if (process.env.MINIBROWSER_PATH) return process.env.MINIBROWSER_PATH;
  const triplets = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((name) => /-linux-gnu/.test(name)) : [];
  const found = triplets.map((triplet) => `/usr/lib/${triplet}/webkit2gtk-4.1/MiniBrowser`).find((path) => existsSync(path));
  return found ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
}

/** @returns {string} */
export function xvfbPath() {
  return process.env.XVFB_PATH || DEFAULT_XVFB;
}

/** WebKitWebDriver and the MiniBrowser it starts (both come with webkit2gtk-driver). @returns {boolean} */
export function hasWebKit() {
  return existsSync(webkitDriverPath()) && existsSync(miniBrowserPath());
}

/** @returns {boolean} */
export function hasXvfb() {
  return existsSync(xvfbPath());
}
