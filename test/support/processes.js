// @ts-check
// Finds Chromium's renderer processes under a browser process, so a test can SIGKILL the one
// behind a tab: the faithful way to crash a tab (headless Chromium gives each tab its own).
import { readdirSync, readFileSync } from 'node:fs';

/** @returns {Map<number, number>} pid → parent pid */
function parents() {
  const map = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  return map;
}

/**
 * Chromium rewrites its process title, so arguments may come joined by spaces, not NULs.
 * @param {number} pid
 */
function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
  } catch {
    return [];
  }
}

/**
 * Renderer processes below `browserPid`.
 * @param {number} browserPid
 * @returns {number[]}
 */
export function rendererPids(browserPid) {
  const tree = parents();
  const isBelow = (/** @type {number} */ pid) => {
    for (let p = tree.get(pid); p; p = tree.get(p)) if (p === browserPid) return true;
    return false;
  };
  return [...tree.keys()].filter((pid) => isBelow(pid) && cmdline(pid).includes('--type=renderer'));
}
