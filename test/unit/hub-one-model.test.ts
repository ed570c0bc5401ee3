// `tabs: 'one'` against a model server, driven at random: three tabs with a one-listener claim what
// the hub hands them and run it on its go (as the client does: create-realtime-client.ts), read
// their frames late, leave and come back (the back/forward cache), and the hub dies (a worker
// restart) while events flow; each tab brings where the one-events were done and what it ran to
// the next hub. Whatever the interleaving, every event runs exactly once, within the README's
// promises: a tab leaves while another stays (the stream lives on), a hub dies once every tab has
// heard where the stream stands, the tabs of a dead hub come back within its successor's hold, and
// the first event of a stream read from now (no id before it to go back to) is not counted. A
// crash, the window the README allows, is left out.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ONE_TAKEOVER_HOLD_MS } from '../../src/protocol/limits.js';
import type { Frame } from '../../src/protocol/tab-hub-messages.js';
import { START, type Position } from '../../src/protocol/stream.js';
import type { WireEvent } from '../../src/protocol/types.js';
import { req } from './hub-helpers.js';
import { modelHub } from './model-hub.js';
import { random } from './random.js';

beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => void vi.useRealTimers());

const FILTER = { types: ['notify'], one: ['notify'] };

function run(seed: number, steps: number) {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const log: string[] = [];
  /** Every run of a one-listener: which tab ran which event. */
  const runs: { tab: number; id: string }[] = [];
  /**
   * Where in the log every event must run from: after the first event a tab heard of. Before, no
   * tab has a position, and a hub that dies leaves the next one to start from now; the first has
   * no id before it to go back to (a hub that dies before it ran takes it along).
   */
  let since = -1;
  let hubs = 0;

  const startHub = () => modelHub(log, { graceMs: 0 }, `hub${++hubs}-`, 'notify');
  let hub = startHub();
  const reconnected = () => hub.reconnected();
  const read = () => hub.read();

  const tabs = [0, 1, 2].map((name) => {
    const tab = {
      inbox: [] as Frame[][],
      position: START as Position,
      oneDone: undefined as Position | undefined,
      /** Ids of the one-events it ran, the last 64 (MAX_ONE_RAN). */
      ran: [] as string[],
      held: [] as { seq: number; event: WireEvent }[],
      sub: 0,
      peer: undefined as ReturnType<typeof hub.hub.attach> | undefined,
      /** What the client does with a frame: claims what it was handed, runs it on the go, says so. */
      read() {
        for (const f of tab.inbox.shift() ?? []) {
          if (!('events' in f) || f.sub !== tab.sub) continue;
          const first = f.events[0]?.id || f.at.id;
          if (since < 0 && first) since = log.indexOf(first) + 1;
          tab.position = f.at;
          tab.oneDone = f.oneDone ?? tab.oneDone;
          if (f.one) {
            tab.held.push(...f.one.map((event, i) => ({ seq: f.oneSeq! + i, event })));
            tab.peer?.claim(tab.sub, tab.held.at(-1)!.seq);
          }
          if (f.oneGo === undefined) continue;
          const go = f.oneGo;
          for (const h of tab.held.filter((h) => h.seq <= go)) {
            runs.push({ tab: name, id: h.event.id });
            tab.ran = [...tab.ran, h.event.id].slice(-64);
          }
          tab.held = tab.held.filter((h) => h.seq > go);
          tab.peer?.ran(tab.sub, go);
        }
      },
      subscribe() {
        const inbox: Frame[][] = (tab.inbox = []);
        tab.held = [];
        tab.peer = hub.hub.attach({ deliver: (frames) => void inbox.push(frames), headers: () => Promise.resolve({}) });
        tab.peer.visibility(true, Date.now());
        tab.peer.subscribe(req({ sub: ++tab.sub, filter: FILTER, position: tab.position, ...(tab.oneDone && { oneDone: tab.oneDone }), ...(tab.ran.length && { oneRan: tab.ran }) }));
        reconnected();
      },
      /** The page leaves (pagehide): it detaches, and what was on its way to it is lost with the port. */
      leave() {
        tab.peer?.detach();
        tab.peer = undefined;
        tab.inbox = [];
        tab.held = [];
        reconnected();
      },
    };
    return tab;
  });
  for (const t of tabs) t.subscribe();

  for (let step = 0; step < steps; step++) {
    const r = rnd();
    if (r < 0.3) {
      log.push(`e${log.length + 1}`);
    } else if (r < 0.5) {
      read();
    } else if (r < 0.6) {
      hub.flush();
    } else if (r < 0.85) {
      pick(tabs).read();
    } else if (r < 0.95) {
      // A tab leaves while another stays (the stream lives on; the README's promise for a tab that
      // closes), or comes back.
      const t = pick(tabs);
      if (!t.peer) t.subscribe();
      else if (tabs.some((o) => o !== t && o.peer)) t.leave();
    } else if (r < 0.97 && tabs.every((t) => t.position.id)) {
      // Once every tab has heard where the stream stands (one that has not would start a new hub
      // from now).
      // The hub dies: its tabs hear nothing more from it; each comes back to a new one later.
      hub.hub.close();
      for (const t of tabs) {
        t.peer = undefined;
        t.inbox = [];
        t.held = [];
      }
      hub = startHub();
    }
    // No time passes here: every tab of a dead hub comes back within the new hub's hold.
  }
  for (const t of tabs) if (!t.peer) t.subscribe();
  for (let round = 0; round < 8; round++) {
    vi.advanceTimersByTime(ONE_TAKEOVER_HOLD_MS);
    while (read());
    hub.flush();
    for (const t of tabs) while (t.inbox.length) t.read();
  }
  return { runs, log, since };
}

describe("tabs: 'one' at random: tabs that read late, leave and come back; hubs that die", () => {
  it.each(Array.from({ length: 200 }, (_, i) => i + 1))('seed %i: every event runs exactly once', (seed) => {
    const { runs, log, since } = run(seed, 400);
    const ids = runs.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'ran twice').toEqual([]);
    expect(since, 'a tab heard of an event').toBeGreaterThan(0);
    expect(log.slice(since).filter((id) => !ids.includes(id)), 'never ran').toEqual([]);
  });
});
