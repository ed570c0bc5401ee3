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
