// On a machine shared with other work: how many cores the processes outside the bench use (the
// machine's busy time from /proc/stat minus the browser's process tree and this Node process),
// so that a measurement can wait for a quiet moment and say how quiet its run was.
// BENCH_QUIET=<cores> turns the waiting on (scripts/bench.mjs).
import { readFileSync } from 'node:fs';
import { TICKS_PER_SECOND, treeTicks } from './cpu.mjs';
import { sleep } from './stats.mjs';

/** Busy ticks of the whole machine (all cores), from the first line of /proc/stat. */
function machineBusyTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return user + nice + system + irq + softirq + steal;
}

function ourTicks(rootPid) {
  let ticks = 0;
  for (const t of treeTicks(rootPid).values()) ticks += t;
  const own = process.cpuUsage();
  return ticks + ((own.user + own.system) / 1e6) * TICKS_PER_SECOND;
}

/** Starts metering the others; stop() gives the cores they used on average since. */
export function othersMeter(rootPid) {
  const start = { busy: machineBusyTicks(), ours: ourTicks(rootPid), at: Date.now() };
  return () => {
    const seconds = (Date.now() - start.at) / 1000;
    const others = machineBusyTicks() - start.busy - (ourTicks(rootPid) - start.ours);
    return seconds > 0 ? Math.max(0, others / TICKS_PER_SECOND / seconds) : 0;
  };
}

/**
 * Waits until the others have used less than `maxCores` over a whole second (checking every
 * second, up to `timeoutMs`); resolves with the cores they used in the last second looked at.
 */
export async function waitForQuiet(rootPid, maxCores, { timeoutMs = 30 * 60_000, log = () => {} } = {}) {
  const deadline = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    const stop = othersMeter(rootPid);
    await sleep(1_000);
    const cores = stop();
    if (cores < maxCores || Date.now() > deadline) return cores;
    if (!said) log(`    waiting for a quiet machine (others use ${cores.toFixed(2)} cores, at most ${maxCores} wanted)`);
    said = true;
  }
}
