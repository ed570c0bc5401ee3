import { createHub, type Hub } from '../hub/hub.js';
import { PROTOCOL_VERSION } from '../protocol/release.js';
import { randomId } from '../protocol/random-id.js';
import type { TabMessage, Welcome } from '../protocol/tab-hub-messages.js';
import { createInbox, type Inbox } from './inbox.js';
import type { Link } from './link.js';
import { attachLocally, pageConnect } from './local-link.js';
import { holdLock, webLocks, type HeldLock } from './locks.js';
import { serveTab } from './serve-tab.js';
import { createSessionLink } from './session-link.js';
import type { TabContext } from './tab-context.js';
import { watchHub, type HubWatch } from './watch-hub.js';
import { decodeHubMessage } from './wire-decoder.js';
import { createWireEncoder } from './wire-encoder.js';

/** Leader election, on the group's channel: who leads, and the question. Everything else travels on inboxes. */
export type ElectionMessage = { protocol: number; kind: 'leader'; tab: string } | { protocol: number; kind: 'who' };

/** True where tabs can elect a leader: Web Locks and BroadcastChannel. */
export function canElectLeader(): boolean {
  return webLocks() !== undefined && typeof BroadcastChannel === 'function';
}

/**
 * The tab's link for one credentials group when SharedWorker is missing: the tabs of the group
 * elect a leader with a Web Lock; the leader runs the hub, and every other tab talks to it as it
 * would to the worker (the same contract, over its own inbox). Groups are separate per
 * credentials identity, so users never share a leader; names carry the release, so releases never
 * mix. One per page and group.
 */
export function leaderLink(context: TabContext, group: string): Link {
  return context.once(`leader:${group}`, () => createLeaderLink(context, group));
}

interface Leading {
  hub: Hub;
  /** Held while this tab leads: followers wait on it to notice that it stopped. */
  life: HeldLock;
  /** Each follower's side of the hub, by tab id. */
  followers: Map<string, (message: TabMessage) => void>;
}

interface Following {
  leader: string;
  /** Watches the leader once it welcomed this tab. */
  watch?: HubWatch;
  close(): void;
}

function createLeaderLink(context: TabContext, group: string): Link {
  const locks = webLocks()!;
  const me = randomId();
  const prefix = `${context.namespace}:${group}`;
  const tabLockName = `${context.namespace}:tab:${me}`;
  // Held for the page's life: the leader waits on it to notice this tab's death.
  const tabLock = holdLock(locks, tabLockName);
  const link = createSessionLink('leader', context, () => ask(), () => retireIfUnused());
  const toWire = createWireEncoder();
  /**
   * The group's channel and this tab's inbox, open while the tab takes part. A page entering
   * the back/forward cache closes them: a message dispatched to a cached page evicts it.
   */
  let channels: { group: BroadcastChannel; inbox: Inbox } | undefined;
  let candidacy: HeldLock | undefined;
  let leading: Leading | undefined;
  let following: Following | undefined;
  let retired = false;

  const post = (message: ElectionMessage) => channels?.group.postMessage(message);
  const ask = () => post({ protocol: PROTOCOL_VERSION, kind: 'who' });
  const refused = () => link.fail('sharing-unavailable', 'Web Locks refuse this page (an opaque or sandboxed origin)');

  function openChannels(): { group: BroadcastChannel; inbox: Inbox } {
    const groupChannel = new BroadcastChannel(`${prefix}:group`);
    groupChannel.onmessage = ({ data }: MessageEvent<ElectionMessage>) => {
      if (data?.protocol !== PROTOCOL_VERSION) return;
      if (data.kind === 'who') {
        if (leading) post({ protocol: PROTOCOL_VERSION, kind: 'leader', tab: me });
      } else if (!leading && following?.leader !== data.tab) {
        follow(data.tab);
      }
    };
    const inbox = createInbox(prefix, me, (from, message) => {
      if (leading) {
        // Only an attach starts serving a follower: a late message of a tab already let go must not bring it back.
        const serve = leading.followers.get(from) ?? ((message as TabMessage)?.kind === 'attach' ? host(leading, from) : undefined);
        serve?.(message as TabMessage);
      } else if (following?.leader === from) {
        receiveFromLeader(following, message);
      }
    });
    return { group: groupChannel, inbox };
  }

  /** Takes part in the group: listens, queues for leadership, asks who leads. */
  function join(): void {
    if (retired) return;
    channels = openChannels();
    stand();
    ask();
  }

  /** Queues for leadership; the lock is granted to the next tab in line when the leader goes. */
  function stand(): void {
    const lock = (candidacy = holdLock(locks, `${prefix}:leader`));
    void lock.held.then((held) => {
      if (candidacy !== lock) return;
      if (held) lead();
      else refused();
    });
  }

  function lead(): void {
    following?.close();
    following = undefined;
    const life = holdLock(locks, `${prefix}:leading:${me}`);
    const current: Leading = { hub: createHub({ connect: pageConnect(context) }), life, followers: new Map() };
    leading = current;
    attachLocally(current.hub, link);
    // Named to followers only once held, or one could take it first and think the leader gone.
    void life.held.then((held) => {
      if (held && leading === current) post({ protocol: PROTOCOL_VERSION, kind: 'leader', tab: me });
    });
  }

  /** Serves follower `tab`: the same side of the hub a SharedWorker gives each tab. */
  function host(current: Leading, tab: string): ((message: TabMessage) => void) | undefined {
    const inbox = channels?.inbox;
    if (!inbox) return undefined;
    const welcome: Promise<Welcome> = current.life.held.then(() => ({ kind: 'welcome', protocol: PROTOCOL_VERSION, lifeLock: `${prefix}:leading:${me}` }));
    const serve = serveTab(
      current.hub,
      welcome,
      () => ({ send: (message) => inbox.send(tab, toWire(message)), close: () => inbox.forget(tab) }),
      () => {
        current.followers.delete(tab);
        retireIfUnused();
      },
    );
    current.followers.set(tab, serve);
    return serve;
  }

  function follow(leader: string): void {
    const inbox = channels?.inbox;
    if (!inbox) return;
    following?.close();
    const current: Following = {
      leader,
      close() {
        current.watch?.stop();
        inbox.forget(leader);
      },
    };
    following = current;
    // A late answer to a leader let go since must not reopen a channel to it.
    const send = (message: TabMessage) => following === current && inbox.send(leader, message);
    send({ kind: 'attach' });
    // The leader may watch this tab's lock only once this tab holds it.
    void tabLock.held.then((held) => held && send({ kind: 'watch', lock: tabLockName }));
    link.use(send);
  }

  function receiveFromLeader(current: Following, data: unknown): void {
    const message = decodeHubMessage(data);
    if (message?.kind !== 'welcome') return message && link.receive(message);
    current.watch ??= watchHub(message, () => {
      if (following !== current) return;
      // The leader is gone: the next tab in line takes over and announces itself.
      current.close();
      following = undefined;
      link.lost();
      ask();
    });
  }

  /** Leaves the group for now: a page entering the back/forward cache must not lead or queue while frozen. */
  function leave(): void {
    candidacy?.release();
    candidacy = undefined;
    if (leading) {
      const current = leading;
      leading = undefined;
      // Upstreams close now: the next leader opens them again from where the followers stand.
      current.hub.close();
      for (const serve of [...current.followers.values()]) serve({ kind: 'detach' });
      current.life.release();
    }
    if (following) {
      link.detach();
      following.close();
      following = undefined;
    }
    channels?.group.close();
    channels?.inbox.close();
    channels = undefined;
    link.lost();
  }

  /**
   * Once no client of this tab and no follower uses the group, the tab leaves it for good: its
   * channels, lock requests and page listeners end with it, and a later client starts afresh.
   */
  function retireIfUnused(): void {
    if (link.size > 0 || (leading && leading.followers.size > 0)) return;
    retired = true;
    leave();
    tabLock.release();
    context.forget(`leader:${group}`);
    for (const stop of pageListeners) stop();
  }

  // A page frozen in the back/forward cache or in the background must not lead, nor queue to.
  const back = () => !channels && join();
  const pageListeners = [
    context.onPage('pagehide', leave),
    context.onPage('freeze', leave),
    context.onPage('pageshow', (event) => event.persisted && back()),
    context.onPage('resume', back),
  ];
  void tabLock.held.then((held) => (held ? join() : refused()));

  return link.link;
}
