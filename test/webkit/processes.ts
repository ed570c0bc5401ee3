import { readdirSync, readFileSync } from 'node:fs';

// WebKitGTK's processes, read from /proc: MiniBrowser and its web processes stay in the process
// group of the WebKitWebDriver that started them. A SharedWorker runs as a thread of the web
// process of the window that created it, and outlives that window. Linux keeps 15 characters of a
// thread's or process's name: WebKit names the thread "WebCore: SharedWorker" and keeps its end
// ("e: SharedWorker"); the process "WebKitWebProcess" keeps its start ("WebKitWebProces").

const WORKER_THREAD = /SharedWorker$/;
const WEB_PROCESS = 'WebKitWebProcess'.slice(0, 15);

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process or thread ended while we looked
  }
};

/** The pids of the processes in process group `groupId`. */
function groupMembers(groupId: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (!stat) continue;
    // Fields after the command name (which may hold spaces): state, ppid, pgrp, ...
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (pgrp === groupId) pids.push(Number(entry));
  }
  return pids;
}

/** The web processes (WebKitWebProcess) of the driver whose group is `groupId`. */
export function webProcesses(groupId: number): number[] {
  return groupMembers(groupId).filter((pid) => read(`/proc/${pid}/comm`)?.trim() === WEB_PROCESS);
}

/** Every SharedWorker thread of those web processes, as `pid/tid`: a restarted worker is a new thread. */
export function sharedWorkerThreads(groupId: number): string[] {
  const threads: string[] = [];
  for (const pid of webProcesses(groupId)) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) if (WORKER_THREAD.test(read(`/proc/${pid}/task/${tid}/comm`)?.trim() ?? '')) threads.push(`${pid}/${tid}`);
  }
  return threads;
}
