// CPU time of a process tree, from /proc/<pid>/stat (utime + stime of each process).
//
// Chromium runs a browser process, a zygote, GPU/utility/network processes and one renderer
// per tab (and one for a SharedWorker); all of them are descendants of the browser process.
// A run's CPU is: for every process alive at its end, its time then minus its time at the
// start (0 for a process born during the run). So measure the end before closing any tab of
// the run: a process that exits takes its own times with it (they would go to its parent's
// cutime only once reaped, and not always to a process of the tree).
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** @returns {Map<number, { ppid: number, ticks: number }>} every process we can read */
function processes() {
  const all = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after "(comm)": state ppid ... utime is field 14, stime 15 (1-based, whole line).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      all.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // Gone while we looked.
    }
  }
  return all;
}

/** Ticks used so far by `rootPid` and every descendant, per pid. */
export function treeTicks(rootPid) {
  const all = processes();
  const inTree = (pid) => {
    for (let p = pid; p; p = all.get(p)?.ppid) if (p === rootPid) return true;
    return false;
  };
  const ticks = new Map();
  for (const [pid, { ticks: t }] of all) if (inTree(pid)) ticks.set(pid, t);
  return ticks;
}

/** Seconds of CPU the tree used between two treeTicks() snapshots. */
export function cpuSeconds(before, after) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / TICKS_PER_SECOND;
}

/**
 * Ticks used so far by each thread of `rootPid`'s tree, by what the thread is: the SharedWorker
 * threads, the renderers' main threads (the tabs; a renderer that hosts only a worker has an idle
 * one), the renderers' other threads (IPC, GC helpers, compositor), the browser process, and the
 * other processes (the network service, the GPU process).
 * @returns {Map<string, { kind: string, ticks: number }>} by "pid/tid"
 */
export function threadTicks(rootPid) {
  const threads = new Map();
  for (const pid of treeTicks(rootPid).keys()) {
    let type = 'browser';
    if (pid !== rootPid) {
      try {
        type = readFileSync(`/proc/${pid}/cmdline`, 'utf8').match(/--type=([a-z-]+)/)?.[1] ?? 'other';
      } catch {
        continue;
      }
    }
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const kind =
          type === 'browser' ? 'browser' : type !== 'renderer' ? 'other' : name.startsWith('SharedWorker') ? 'worker' : tid === String(pid) ? 'tabs' : 'rendererOther';
        threads.set(`${pid}/${tid}`, { kind, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // Gone while we looked.
      }
    }
  }
  return threads;
}

/** Seconds by thread kind between two threadTicks() snapshots (see cpuSeconds for threads born or gone). */
function threadSeconds(before, after) {
  const seconds = { worker: 0, tabs: 0, rendererOther: 0, browser: 0, other: 0, busiestTab: 0 };
  for (const [key, { kind, ticks }] of after) {
    const s = (ticks - (before.get(key)?.ticks ?? 0)) / TICKS_PER_SECOND;
    seconds[kind] += s;
    if (kind === 'tabs') seconds.busiestTab = Math.max(seconds.busiestTab, s);
  }
  return seconds;
}

/**
 * Starts measuring `rootPid`'s tree and this Node process (the servers and the driver); stop()
 * gives seconds: the tree's, this process's, and the tree's by kind of thread (threadTicks()).
 */
export function startCpu(rootPid) {
  const before = treeTicks(rootPid);
  const threadsBefore = threadTicks(rootPid);
  const node = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(node);
    return { browser: cpuSeconds(before, treeTicks(rootPid)), node: (used.user + used.system) / 1e6, threads: threadSeconds(threadsBefore, threadTicks(rootPid)) };
  };
}

/** Number of processes in the tree (to wait for closed tabs' renderers to be gone). */
export const treeSize = (rootPid) => treeTicks(rootPid).size;
