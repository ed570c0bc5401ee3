// Starts a burst of the demo server (`POST /publish/burst`: `count` events of `type` at `rate`
// events/s on `stream`, data `{ seq, t }`), from here over HTTP/1.1: no browser connection used.
import { sleep } from './stats.mjs';

export async function startBurst(demo, burst) {
  // One burst at a time: a previous one that is still publishing answers 409.
  for (let i = 0; ; i++) {
    const response = await fetch(`${demo.url}/publish/burst`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(burst),
    });
    if (response.status === 202) return;
    if (response.status !== 409 || i > 100) throw new Error(`burst: ${response.status} ${await response.text()}`);
    await sleep(100);
  }
}

/**
 * `published()` for measure(): true once the demo server's burst is over. A burst that ended
 * short (the server refused a publish) is said once, with how far it got: the tabs then wait
 * for events that were never published, and the run counts as stalled.
 */
export function burstOver(demo, log) {
  let told = false;
  return async () => {
    const burst = (await demo.stats()).burst;
    if (burst?.error && !told) {
      told = true;
      log(`    the burst ended short, ${burst.sent} of ${burst.count} events published: ${burst.error}`);
    }
    return burst?.done === true;
  };
}
