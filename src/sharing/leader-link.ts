import { createHub, type Hub } from '../hub/hub.js';
import { NAMESPACE, PROTOCOL_VERSION, type GroupMessage, type HubControl, type TabControl, type Welcome } from '../protocol/messages.js';
import { decodeFrames } from './decode-frames.js';
import { createHubControl } from './hub-host.js';
import { createInbox, type Inbox } from './inbox.js';
import type { Link } from './link.js';
import { localSession } from './local-link.js';
import { holdLock, type HeldLock } from './hold-lock.js';
import { webLocks, whenReleased } from './locks.js';
import { randomId } from './random-id.js';
import { expose, notifier, type Call } from './rpc.js';
import { wrap } from './wrap.js';
import { createSessionLink, type Session } from './session-link.js';

const groups = new Map<string, Link>();

/** True where tabs can elect a leader: Web Locks and BroadcastChannel. */
export function canElectLeader(): boolean {
  return webLocks() !== undefined && typeof BroadcastChannel === 'function';
}

/**
 * The tab's link for one credentials group when SharedWorker is missing: the tabs of the group
 * elect a leader with a Web Lock; the leader runs the hub, and every other tab talks to it as it
 * would to the worker (the same control plane, over its own channel). Groups are separate per credentials
 * identity, so users never share a leader; names carry the release, so releases never mix.
 */
export function leaderLink(group: string): Link {
  let link = groups.get(group);
  if (!link) groups.set(group, (link = createLeaderLink(group)));
  return link;
}

interface Leading {
  hub: Hub;
  /** Held while this tab leads: followers wait on it to notice that it stopped. */
  life: HeldLock;
  followers: Set<string>;
  /** Each follower's control, to let it go when this tab steps down. */
  controls: Map<string, HubControl>;
}

interface Following {
  leader: string;
  session: Session;
  /** The leader's welcome came: its life lock is watched from now. */
  welcomed(welcome: Welcome): void;
  close(): void;
}

function createLeaderLink(group: string): Link {
  const locks = webLocks()!;
  const me = randomId();
  const prefix = `${NAMESPACE}:${group}`;
  const tabLockName = `${NAMESPACE}:tab:${me}`;
  // Held for the page's life: the leader waits on it to notice this tab's death.
  const tabLock = holdLock(locks, tabLockName);
  const link = createSessionLink('leader', () => ask(), () => retireIfUnused());
  const tabControl: TabControl = { headers: (sub) => link.headers(sub) };
  /**
   * The group's channel and this tab's inbox, open while the tab takes part. A page entering
   * the back/forward cache closes them: a message dispatched to a cached page evicts it.
   */
  let channels: { group: BroadcastChannel; inbox: Inbox } | undefined;
  let candidacy: HeldLock | undefined;
  let leading: Leading | undefined;
  let following: Following | undefined;

  const post = (message: GroupMessage) => channels?.group.postMessage(message);
  const ask = () => post({ v: PROTOCOL_VERSION, kind: 'who' });
  const refused = () =>
    link.fail('sharing-unavailable', 'Web Locks refuse this page (an opaque or sandboxed origin)');

  function openChannels(): { group: BroadcastChannel; inbox: Inbox } {
    const group = new BroadcastChannel(`${prefix}:group`);
    group.onmessage = (event: MessageEvent<GroupMessage>) => {
      const message = event.data;
      if (message?.v !== PROTOCOL_VERSION) return;
      if (message.kind === 'who') {
        if (leading) post({ v: PROTOCOL_VERSION, kind: 'leader', tab: me });
      } else if (!leading && following?.leader !== message.tab) {
        follow(message.tab);
      }
    };
    const inbox = createInbox(
      prefix,
      me,
      (from, message) => {
        if (following?.leader !== from) return;
        if ('frames' in message) link.dispatch(decodeFrames(message.frames));
        else if ('welcome' in message) following.welcomed(message.welcome);
      },
      (from, message) => {
        // Only an attach starts a follower: a late message of a tab already let go must not bring it back.
        if (leading && (message as Call | undefined)?.m === 'attach') host(leading, from);
      },
    );
    return { group, inbox };
  }

  let retired = false;

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
    const current: Leading = { hub: createHub(), life, followers: new Set(), controls: new Map() };
    leading = current;
    link.use(localSession(current.hub, link));
    // Named to followers only once held, or one could take it first and think the leader gone.
    void life.held.then((held) => {
      if (held && leading === current) post({ v: PROTOCOL_VERSION, kind: 'leader', tab: me });
    });
  }

  /** Serves follower `tab`: the same control a SharedWorker gives each tab. */
  function host(current: Leading, tab: string): void {
    const inbox = channels?.inbox;
    if (!inbox || current.followers.has(tab)) return;
    current.followers.add(tab);
    const endpoint = inbox.endpoint(tab);
    const welcome: Promise<Welcome> = current.life.held.then(() => ({ v: PROTOCOL_VERSION, lifeLock: `${prefix}:leading:${me}` }));
    const [remote, releaseRemote] = wrap<TabControl>(endpoint);
    const control = createHubControl(
      current.hub,
      welcome,
      () => ({
        post: (message) => inbox.send(tab, message),
        tab: remote,
        close() {
          releaseRemote();
          inbox.forget(tab);
        },
      }),
      () => {
        current.followers.delete(tab);
        current.controls.delete(tab);
        retireIfUnused();
      },
    );
    current.controls.set(tab, control);
    expose(control, endpoint);
  }

  function follow(leader: string): void {
    const inbox = channels?.inbox;
    if (!inbox) return;
    following?.close();
    const endpoint = inbox.endpoint(leader);
    const session = notifier<HubControl>(endpoint);
    const owned: (() => void)[] = [expose(tabControl, endpoint)];
    const current: Following = {
      leader,
      session,
      welcomed(welcome) {
        if (following !== current || !welcome.lifeLock || owned.length > 1) return;
        owned.push(
          whenReleased(locks, welcome.lifeLock, () => {
            if (following !== current) return;
            // The leader is gone: the next tab in line takes over and announces itself.
            current.close();
            following = undefined;
            link.lost();
            ask();
          }),
        );
      },
      close() {
        for (const end of owned.splice(0)) end();
        inbox.forget(leader);
      },
    };
    following = current;
    session.attach();
    // The leader may watch this tab's lock only once this tab holds it.
    void tabLock.held.then((held) => {
      if (held && following === current) session.watch(tabLockName);
    });
    link.use(current.session);
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
      for (const control of [...current.controls.values()]) void control.detach();
      current.life.release();
    }
    if (following) {
      following.session.detach();
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
    if (groups.get(group) === link.link) groups.delete(group);
    g.removeEventListener?.('pagehide', leave);
    g.removeEventListener?.('pageshow', rejoin);
  }

  function rejoin(event: Event): void {
    if ((event as PageTransitionEvent).persisted && !channels) join();
  }

  void tabLock.held.then((held) => (held ? join() : refused()));

  const g = globalThis as unknown as EventTarget;
  g.addEventListener?.('pagehide', leave);
  g.addEventListener?.('pageshow', rejoin);

  return link.link;
}
