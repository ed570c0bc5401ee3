import { createHub, type HubPeer } from '../hub/hub.js';
import { PROTOCOL_VERSION, type AddressedFrame, type LeaderBody, type LeaderMessage, type SubscribeRequest } from '../protocol/messages.js';
import type { HeadersInit } from '../protocol/types.js';
import type { Link, LinkSubscriber } from './link.js';
import { holdForever, randomId, webLocks, whenReleased } from './locks.js';
import { createSubscriberTable } from './subscriber-table.js';

const groups = new Map<string, Link>();

/** True where tabs can elect a leader: Web Locks and BroadcastChannel. */
export function canElectLeader(): boolean {
  return webLocks() !== undefined && typeof BroadcastChannel === 'function';
}

/**
 * The tab's link for one credentials group when SharedWorker is missing: the tabs elect a leader
 * with a Web Lock; the leader runs the hub and relays over BroadcastChannel. Groups are separate
 * per credentials identity, so users never share a leader.
 */
export function leaderLink(group: string): Link {
  let link = groups.get(group);
  if (!link) groups.set(group, (link = createLeaderLink(group)));
  return link;
}

function createLeaderLink(group: string): Link {
  const locks = webLocks()!;
  const tab = randomId();
  const tabLock = `ssemux:tab:${tab}`;
  const tabLockHeld = holdForever(locks, tabLock);
  const table = createSubscriberTable();
  const channel = new BroadcastChannel(`ssemux:${group}`);
  /** Set while this tab leads: its own peer on the hub, and the followers' messages handler. */
  let leader: { self: HubPeer; handle(message: LeaderMessage): void } | undefined;

  const post = (body: LeaderBody) => channel.postMessage({ v: PROTOCOL_VERSION, ...body } satisfies LeaderMessage);
  // A follower speaks only once it holds its tab lock: the leader waits on that lock to notice
  // the tab's death, and would take a lock not yet held as a death at once.
  const postAsFollower = (body: LeaderBody) => void tabLockHeld.then(() => post(body));

  function request(sub: number, subscriber: LinkSubscriber): SubscribeRequest {
    return { sub, spec: subscriber.spec, types: subscriber.types(), lastEventId: subscriber.resumeFrom() };
  }

  function send(sub: number, subscriber: LinkSubscriber): void {
    if (leader) leader.self.subscribe(request(sub, subscriber));
    else postAsFollower({ kind: 'subscribe', tab, request: request(sub, subscriber) });
  }

  channel.onmessage = (event: MessageEvent<LeaderMessage>) => {
    const message = event.data;
    if (message?.v !== PROTOCOL_VERSION) return;
    if (leader) return leader.handle(message);
    switch (message.kind) {
      case 'deliver': {
        const mine = message.frames.filter((frame) => frame.tab === tab);
        if (mine.length) table.dispatch(mine);
        return;
      }
      case 'leader':
        // A new leader knows nothing yet: tell it what this tab listens to and where it stands.
        for (const [sub, subscriber] of table.entries()) send(sub, subscriber);
        return;
      case 'headers':
        if (message.tab !== tab) return;
        table.headers(message.sub).then(
          (headers) => postAsFollower({ kind: 'headers-reply', id: message.id, headers }),
          (error: unknown) => postAsFollower({ kind: 'headers-reply', id: message.id, error: String(error) }),
        );
        return;
    }
  };

  void tabLockHeld.then(() =>
    locks.request(`ssemux:leader:${group}`, () => {
      lead();
      return new Promise<never>(() => {});
    }),
  );

  function lead(): void {
    const hub = createHub();
    const owners = new Map<number, { tab: string; sub: number }>();
    const ids = new Map<string, number>();
    const tabs = new Set<string>();
    const replies = new Map<number, { resolve(h: HeadersInit): void; reject(e: Error): void }>();
    let nextSub = 1;
    let nextReply = 1;

    const followers = hub.attach({
      deliver(frames) {
        const addressed: AddressedFrame[] = frames.map((frame) => ({ ...frame, ...owners.get(frame.sub)! }));
        post({ kind: 'deliver', frames: addressed });
      },
      headers(hubSub) {
        const owner = owners.get(hubSub);
        if (!owner) return Promise.reject(new Error('No such subscription'));
        const id = nextReply++;
        return new Promise<HeadersInit>((resolve, reject) => {
          replies.set(id, { resolve, reject });
          post({ kind: 'headers', tab: owner.tab, sub: owner.sub, id });
        });
      },
    });
    const hubSubOf = (from: string, sub: number) => ids.get(`${from}\n${sub}`);
    const drop = (from: string, sub: number) => {
      const hubSub = hubSubOf(from, sub);
      if (hubSub === undefined) return;
      ids.delete(`${from}\n${sub}`);
      owners.delete(hubSub);
      followers.unsubscribe(hubSub);
    };
    const dropTab = (from: string) => {
      for (const { tab: owner, sub } of [...owners.values()]) if (owner === from) drop(owner, sub);
      tabs.delete(from);
    };

    leader = {
      self: hub.attach({ deliver: table.dispatch, headers: table.headers }),
      handle(message) {
        switch (message.kind) {
          case 'subscribe': {
            const { tab: from, request: req } = message;
            if (hubSubOf(from, req.sub) !== undefined) return;
            if (!tabs.has(from)) {
              tabs.add(from);
              // The follower's own lock frees when its tab closes or crashes.
              whenReleased(locks, `ssemux:tab:${from}`, () => dropTab(from));
            }
            const hubSub = nextSub++;
            owners.set(hubSub, { tab: from, sub: req.sub });
            ids.set(`${from}\n${req.sub}`, hubSub);
            followers.subscribe({ ...req, sub: hubSub });
            return;
          }
          case 'set-types': {
            const hubSub = hubSubOf(message.tab, message.sub);
            if (hubSub !== undefined) followers.setTypes(hubSub, message.types);
            return;
          }
          case 'unsubscribe':
            return drop(message.tab, message.sub);
          case 'detach':
            return dropTab(message.tab);
          case 'headers-reply': {
            const reply = replies.get(message.id);
            replies.delete(message.id);
            if (message.headers) reply?.resolve(message.headers);
            else reply?.reject(new Error(message.error ?? 'No headers'));
            return;
          }
        }
      },
    };
    for (const [sub, subscriber] of table.entries()) leader.self.subscribe(request(sub, subscriber));
    post({ kind: 'leader', tab });
  }

  const g = globalThis as unknown as EventTarget;
  if (typeof g.addEventListener === 'function') {
    g.addEventListener('pagehide', () => {
      if (!leader) postAsFollower({ kind: 'detach', tab });
    });
    g.addEventListener('pageshow', (event) => {
      if ((event as PageTransitionEvent).persisted && !leader) for (const [sub, subscriber] of table.entries()) send(sub, subscriber);
    });
  }

  return {
    sharing: 'leader',
    subscribe(subscriber) {
      const sub = table.add(subscriber);
      send(sub, subscriber);
      return {
        setTypes(types) {
          if (leader) leader.self.setTypes(sub, types);
          else postAsFollower({ kind: 'set-types', tab, sub, types });
        },
        close() {
          table.remove(sub);
          if (leader) leader.self.unsubscribe(sub);
          else postAsFollower({ kind: 'unsubscribe', tab, sub });
        },
      };
    },
  };
}
