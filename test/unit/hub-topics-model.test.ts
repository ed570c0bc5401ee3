// The hub on a topic stream against a model server, driven at random: tabs follow and drop topics
// while events flow, frames reach the tabs late (so a tab asks from where it stood, not where the
// hub stands), and the upstream goes back for added topics. Whatever the interleaving, each tab
// gets each event of its topics at most once, in log order on each topic, and none published after it asked for
// its topic is missed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOPICS_DEBOUNCE_MS } from '../../src/protocol/limits.js';
import type { Frame } from '../../src/protocol/tab-hub-messages.js';
import { START, type Position } from '../../src/protocol/stream.js';
import { compareCursors } from '../../src/protocol/wire.js';
import { req, spec } from './hub-helpers.js';
import { modelHub } from './model-hub.js';
import { random } from './random.js';

beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => void vi.useRealTimers());

const TOPICS = ['main', 'a', 'b'];

/** A tab of the model: frames wait in its inbox until it reads them, as over a real port. */
function modelTab() {
  const tab = {
    inbox: [] as Frame[][],
    position: START as Position,
    /** Topics it was still catching up on, as the hub last said: it brings them to the next hub, as a client does. */
    joining: undefined as Record<string, Position> | undefined,
    topics: ['main'],
    /** What it received: id and topic, in order. */
    got: [] as { id: string; topic: string }[],
    /** Per topic, the log length when the tab last asked for it (what it may not miss comes after). */
    askedAt: new Map<string, number>(),
    /** The log's length where it first heard the stream stood: before, it had no position to come back from. */
    since: -1,
    /** Its subscription's number, and its side of the hub while it has one. */
    sub: 0,
    peer: undefined as ReturnType<ReturnType<typeof modelHub>['hub']['attach']> | undefined,
    read() {
      for (const f of tab.inbox.shift() ?? []) {
        if (!('events' in f) || f.sub !== tab.sub) continue;
        for (const e of f.events) tab.got.push({ id: e.id, topic: e.topic! });
        tab.position = f.at;
        tab.joining = f.joining;
        if (tab.since < 0 && f.at.id) tab.since = Number(f.at.id.split('-')[1]);
      }
    },
  };
  return tab;
}

interface Variant {
  /** Tabs drop topics too, and take them again (at once, or after a while). */
  drops: boolean;
  /** The hub's catch-up memory, in characters: small, it rarely reaches back and the upstream goes back instead. */
  catchUpChars?: number;
  /** The hub dies now and then (a worker restart); its tabs come back to a new one from where each stands. */
  deaths?: boolean;
}

/** `steps` random steps of a server, a hub (or hubs one after another) and three tabs, then everything settles. */
function run(seed: number, steps: number, { drops, catchUpChars, deaths }: Variant) {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  /** The server's log. */
  const log: { id: string; topic: string }[] = [];
  /** A hub, whose upstream reads the log. */
  const startHub = () => modelHub(log, catchUpChars === undefined ? {} : { catchUpChars });
  let hub = startHub();
  const tabs = [modelTab(), modelTab(), modelTab()];
  const filter = (t: ReturnType<typeof modelTab>) => ({ types: ['*'], topics: t.topics });
  const reconnected = () => hub.reconnected();
  const subscribe = (t: ReturnType<typeof modelTab>) => {
    const inbox: Frame[][] = (t.inbox = []);
    t.peer = hub.hub.attach({ deliver: (frames) => void inbox.push(frames), headers: () => Promise.resolve({}) });
    t.peer.subscribe(req({ sub: ++t.sub, spec: spec({ topics: true }), filter: filter(t), position: t.position, ...(t.joining && { joining: t.joining }) }));
    reconnected();
  };
  const read = () => hub.read();
  for (const t of tabs) {
    t.askedAt.set('main', 0);
    subscribe(t);
  }

  for (let step = 0; step < steps; step++) {
    const r = rnd();
    if (r < 0.35) {
      log.push({ id: `1-${log.length + 1}`, topic: pick(TOPICS) });
    } else if (r < 0.6) {
      read();
    } else if (r < 0.7) {
      hub.flush();
    } else if (r < 0.85) {
      pick(tabs).read();
    } else if (r < 0.95) {
      // A tab follows or drops a topic, from where it stands (its frames may be late); one whose
      // hub died comes back to the new one.
      const t = pick(tabs);
      const topic = pick(['a', 'b']);
      if (t.topics.includes(topic)) {
        if (!drops) continue;
        t.topics = t.topics.filter((x) => x !== topic);
        t.askedAt.delete(topic);
      } else {
        t.topics = [...t.topics, topic];
        t.askedAt.set(topic, log.length);
      }
      if (t.peer) t.peer.update(t.sub, filter(t), t.position);
      else subscribe(t);
      reconnected();
    } else if (deaths && r < 0.96) {
      // The hub dies: what it sent that the tabs did not read is lost with it.
      hub.hub.close();
      for (const t of tabs) {
        t.peer = undefined;
        t.inbox = [];
      }
      hub = startHub();
    } else {
      vi.advanceTimersByTime(TOPICS_DEBOUNCE_MS);
      reconnected();
    }
  }
  // Everything settles: every tab is back, the union is applied, the upstream reads the whole log, the tabs read every frame.
  for (const t of tabs) if (!t.peer) subscribe(t);
  for (let round = 0; round < 5; round++) {
    vi.advanceTimersByTime(TOPICS_DEBOUNCE_MS);
    reconnected();
    while (read());
    hub.flush();
    for (const t of tabs) while (t.inbox.length) t.read();
  }
  return { tabs, log };
}

const variants: [string, Variant][] = [
  ['topics added', { drops: false }],
  ['topics added and dropped', { drops: true }],
  ['topics added and dropped, a hub that remembers little', { drops: true, catchUpChars: 60 }],
  ['topics added and dropped, hubs that die', { drops: true, deaths: true }],
];

describe.each(variants)('createHub on a topic stream, at random: %s', (_, variant) => {
  it.each(Array.from({ length: 100 }, (_, i) => i + 1))('seed %i: none missed, none twice, none out of order on its topic', (seed) => {
    const { tabs, log } = run(seed, 400, variant);
    for (const t of tabs) {
      const ids = t.got.map((e) => e.id);
      // Nothing it asked for is missed: every event of its topics published since it asked.
      for (const [topic, at] of t.askedAt) {
        const missed = log.slice(Math.max(at, t.since)).filter((e) => e.topic === topic && !ids.includes(e.id)).map((e) => e.id);
        expect(missed, `${topic} missed`).toEqual([]);
      }
      expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'duplicates').toEqual([]);
      // In log order on each topic (a topic caught up comes after newer events of the others).
      for (const topic of TOPICS) {
        const mine = t.got.filter((e) => e.topic === topic).map((e) => e.id);
        for (let i = 1; i < mine.length; i++) expect(compareCursors(mine[i - 1]!, mine[i]!), `${topic}: ${mine.join(' ')}`).toBeLessThan(0);
      }
    }
  });
});
