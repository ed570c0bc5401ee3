// A tab reads its hub's messages through watchHub: a go for one-events is read only once the hub
// is known to live, so that a tab busy when its hub died does not run what the next hub hands out.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HubMessage } from '../../../src/protocol/tab-hub-messages.js';
import { watchHub } from '../../../src/sharing/watch-hub.js';

/**
 * Web Locks with a hub's life lock held elsewhere: `release()` grants it to the waiting tab (the
 * hub died), and a query is answered a task later, after any grant made before it was asked.
 */
function fakeLocks() {
  const waiting = new Map<string, () => void>();
  const locks = {
    request(name: string, _options: unknown, granted: () => void) {
      waiting.set(name, granted);
      return new Promise(() => {});
    },
    query: () => new Promise((resolve) => setTimeout(() => resolve({ held: [], pending: [] }))),
  };
  return { locks, release: (name: string) => waiting.get(name)?.() };
}

const frames = (oneGo?: number): HubMessage => ({ kind: 'frames', frames: [{ sub: 1, events: [], at: { id: '', count: 0, lineage: 'l' }, ...(oneGo !== undefined && { oneGo }) }] }) as HubMessage;
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('watchHub: reading a hub that may have died', () => {
  let fake: ReturnType<typeof fakeLocks>;
  beforeEach(() => {
    fake = fakeLocks();
    vi.stubGlobal('navigator', { locks: fake.locks });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('hands messages without a go on at once, and a go once the hub is known to live, in order', async () => {
    const read: HubMessage[] = [];
    const watch = watchHub({ kind: 'welcome', protocol: 1, lifeLock: 'life' }, () => {});
    const [plain, go, after] = [frames(), frames(3), frames()];
    watch.read(plain, (m) => read.push(m));
    expect(read).toEqual([plain]);
    watch.read(go, (m) => read.push(m));
    watch.read(after, (m) => read.push(m));
    expect(read).toEqual([plain]);
    await settle();
    expect(read).toEqual([plain, go, after]);
    watch.read(plain, (m) => read.push(m));
    expect(read).toHaveLength(4);
  });

  it('drops a go (and what follows it) when the hub died before the tab could check it: the tab hears of the death instead', async () => {
    const read: HubMessage[] = [];
    const dead = vi.fn();
    const watch = watchHub({ kind: 'welcome', protocol: 1, lifeLock: 'life' }, dead);
    // The tab was busy: the go waited in its queue while the hub died.
    watch.read(frames(7), (m) => read.push(m));
    watch.read(frames(), (m) => read.push(m));
    fake.release('life');
    await settle();
    expect(dead).toHaveBeenCalledTimes(1);
    expect(read).toEqual([]);
  });
});
