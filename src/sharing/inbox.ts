import type { DataMessage, InboxMessage } from '../protocol/messages.js';
import type { Endpoint } from './rpc.js';

/** A tab's own BroadcastChannel, and control-plane endpoints and data lanes to other tabs' inboxes. */
export interface Inbox {
  /** An endpoint to `peer`: what `peer` posts to this inbox, and posting to `peer`'s. */
  endpoint(peer: string): Endpoint;
  /** Hub data for `peer`'s inbox. */
  send(peer: string, message: DataMessage): void;
  /** Forgets `peer`: its endpoint's listeners and the channel to it. */
  forget(peer: string): void;
  close(): void;
}

/**
 * Addressed messaging over BroadcastChannel: each tab listens on one channel named after itself,
 * so a message for one tab is read by that tab only (a shared channel would make every follower
 * deserialize every other tab's deliveries: quadratic in tabs). `onData` receives hub data;
 * `onStranger` is told of a control-plane message from a peer with no endpoint yet, before it is handled.
 */
export function createInbox(
  prefix: string,
  me: string,
  onData: (from: string, message: DataMessage) => void,
  onStranger: (from: string, message: unknown) => void = () => {},
): Inbox {
  const name = (tab: string) => `${prefix}:inbox:${tab}`;
  const inbox = new BroadcastChannel(name(me));
  const outboxes = new Map<string, BroadcastChannel>();
  const listeners = new Map<string, Set<(event: MessageEvent) => void>>();

  const out = (peer: string) => {
    let channel = outboxes.get(peer);
    if (!channel) outboxes.set(peer, (channel = new BroadcastChannel(name(peer))));
    return channel;
  };

  inbox.onmessage = (event: MessageEvent<InboxMessage>) => {
    const message = event.data;
    if (typeof message?.from !== 'string') return;
    if ('d' in message) return onData(message.from, message.d);
    if (!listeners.has(message.from)) onStranger(message.from, message.c);
    const forwarded = { data: message.c } as MessageEvent;
    for (const listener of listeners.get(message.from) ?? []) listener(forwarded);
  };

  return {
    endpoint(peer) {
      return {
        postMessage: (message: unknown) => {
          // An answer to the call that forgot the peer must not reopen a channel to it.
          if (listeners.has(peer)) out(peer).postMessage({ from: me, c: message } satisfies InboxMessage);
        },
        addEventListener(_type: string, listener: (event: MessageEvent) => void) {
          let set = listeners.get(peer);
          if (!set) listeners.set(peer, (set = new Set()));
          set.add(listener);
        },
        removeEventListener(_type: string, listener: (event: MessageEvent) => void) {
          listeners.get(peer)?.delete(listener);
        },
      };
    },
    send(peer, message) {
      out(peer).postMessage({ from: me, d: message } satisfies InboxMessage);
    },
    forget(peer) {
      outboxes.get(peer)?.close();
      outboxes.delete(peer);
      listeners.delete(peer);
    },
    close() {
      inbox.close();
      for (const channel of outboxes.values()) channel.close();
      outboxes.clear();
      listeners.clear();
    },
  };
}
