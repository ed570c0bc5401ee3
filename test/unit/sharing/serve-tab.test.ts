import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Hub, HubEndpoint } from '../../../src/hub/hub.js';
import { ACK_WAIT_MS, ACK_WINDOW } from '../../../src/protocol/limits.js';
import type { EventsFrame, Frame, HubMessage } from '../../../src/protocol/tab-hub-messages.js';
import { serveTab, type TabLink } from '../../../src/sharing/serve-tab.js';
import { FAKE_TIMERS } from './helpers.js';

/** A hub that only remembers the endpoint a tab attached: the test delivers to it by hand. */
function fakeHub(): { hub: Hub; endpoint(): HubEndpoint } {
  let attached: HubEndpoint | undefined;
  return {
    hub: {
      attach(endpoint) {
        attached = endpoint;
        return { handle() {} };
      },
      close() {},
    },
    endpoint: () => attached!,
  };
}

/** One tab served over a link that records what the hub sends it. */
async function servedTab(acks = true) {
  const { hub, endpoint } = fakeHub();
  const sent: HubMessage[] = [];
  const link: TabLink = { send: (message) => sent.push(message), close() {}, ...(acks && { acks }) };
  const serve = serveTab(hub, Promise.resolve({ kind: 'welcome', protocol: 0 }), () => link);
  serve({ kind: 'attach' });
  // The welcome goes out once its promise settled.
  await Promise.resolve();
  await Promise.resolve();
  sent.length = 0;
  return {
    serve,
    deliver: (...frames: Frame[]) => endpoint().deliver(frames),
    /** The frames messages the tab got so far, each as the ids of its events. */
    messages: () => sent.filter((m) => m.kind === 'frames').map((m) => m.frames.flatMap((f) => (f as EventsFrame).events.map((e) => e.id))),
  };
}

const frame = (...ids: string[]): EventsFrame => ({ sub: 1, events: ids.map((id) => ({ type: 'x', id, data: '' })), at: { id: ids.at(-1)!, count: 0, lineage: 'L' } });

beforeEach(() => vi.useFakeTimers(FAKE_TIMERS));
afterEach(() => vi.useRealTimers());

describe('serveTab: flow to a tab that acks', () => {
  it(`sends ${ACK_WINDOW} message(s) ahead of the acks, then coalesces the flushes that come meanwhile into one message, in order`, async () => {
    const tab = await servedTab();
    for (let i = 1; i <= ACK_WINDOW; i++) tab.deliver(frame(`w${i}`));
    tab.deliver(frame('1', '2'));
    tab.deliver(frame('3'));
    tab.deliver(frame('4'));
    expect(tab.messages()).toHaveLength(ACK_WINDOW);
    tab.serve({ kind: 'ack' });
    expect(tab.messages().slice(ACK_WINDOW)).toEqual([['1', '2', '3', '4']]);
    // Acked all: the next flush goes at once.
    for (let i = 0; i < ACK_WINDOW; i++) tab.serve({ kind: 'ack' });
    tab.deliver(frame('5'));
    expect(tab.messages().at(-1)).toEqual(['5']);
  });

  it(`sends what waits after ${ACK_WAIT_MS} ms without an ack, and nothing is lost or repeated`, async () => {
    const tab = await servedTab();
    for (let i = 1; i <= ACK_WINDOW; i++) tab.deliver(frame(`w${i}`));
    tab.deliver(frame('1'));
    tab.deliver(frame('2'));
    vi.advanceTimersByTime(ACK_WAIT_MS - 1);
    expect(tab.messages()).toHaveLength(ACK_WINDOW);
    vi.advanceTimersByTime(1);
    expect(tab.messages().slice(ACK_WINDOW)).toEqual([['1', '2']]);
    // The late acks free the window again; nothing is sent twice.
    for (let i = 0; i <= ACK_WINDOW; i++) tab.serve({ kind: 'ack' });
    tab.deliver(frame('3'));
    expect(tab.messages().slice(ACK_WINDOW)).toEqual([['1', '2'], ['3']]);
  });

  it('holds nothing for a hidden tab: what waits goes when it hides, and every flush after it at once', async () => {
    const tab = await servedTab();
    for (let i = 1; i <= ACK_WINDOW; i++) tab.deliver(frame(`w${i}`));
    tab.deliver(frame('1'));
    expect(tab.messages()).toHaveLength(ACK_WINDOW);
    tab.serve({ kind: 'visibility', visible: false, focusedAt: 0 });
    expect(tab.messages().slice(ACK_WINDOW)).toEqual([['1']]);
    tab.deliver(frame('2'));
    tab.deliver(frame('3'));
    expect(tab.messages().slice(ACK_WINDOW)).toEqual([['1'], ['2'], ['3']]);
  });

  it('holds nothing on a link whose tab does not ack (the page’s own hub)', async () => {
    const tab = await servedTab(false);
    for (let i = 1; i <= ACK_WINDOW + 2; i++) tab.deliver(frame(`${i}`));
    expect(tab.messages()).toHaveLength(ACK_WINDOW + 2);
  });

  it('a tab that leaves while frames wait is sent nothing more', async () => {
    const tab = await servedTab();
    for (let i = 1; i <= ACK_WINDOW; i++) tab.deliver(frame(`w${i}`));
    tab.deliver(frame('1'));
    tab.serve({ kind: 'detach' });
    vi.advanceTimersByTime(ACK_WAIT_MS * 2);
    tab.serve({ kind: 'ack' });
    expect(tab.messages()).toHaveLength(ACK_WINDOW);
    expect(vi.getTimerCount()).toBe(0);
  });
});
