/** A message on a tab's inbox: who sent it, and a message of the tab-hub contract in its wire form. */
export interface InboxMessage {
  from: string;
  message: unknown;
}

/** A tab's own BroadcastChannel, and the channels to other tabs' inboxes. */
export interface Inbox {
  /** Posts `message` to `peer`'s inbox. */
  send(peer: string, message: unknown): void;
  /** Closes the channel to `peer`. */
  forget(peer: string): void;
  close(): void;
}

/**
 * Addressed messaging over BroadcastChannel: each tab listens on one channel named after itself,
 * so a message for one tab is read by that tab only (a shared channel would make every follower
 * deserialize every other tab's deliveries: quadratic in tabs). `receive` gets what other tabs
 * post to this one.
 */
export function createInbox(prefix: string, me: string, receive: (from: string, message: unknown) => void): Inbox {
  const name = (tab: string) => `${prefix}:inbox:${tab}`;
  const inbox = new BroadcastChannel(name(me));
  const outboxes = new Map<string, BroadcastChannel>();

  inbox.onmessage = ({ data }: MessageEvent<InboxMessage>) => {
    if (typeof data?.from === 'string') receive(data.from, data.message);
  };

  return {
    send(peer, message) {
      let channel = outboxes.get(peer);
      if (!channel) outboxes.set(peer, (channel = new BroadcastChannel(name(peer))));
      channel.postMessage({ from: me, message } satisfies InboxMessage);
    },
    forget(peer) {
      outboxes.get(peer)?.close();
      outboxes.delete(peer);
    },
    close() {
      inbox.close();
      for (const channel of outboxes.values()) channel.close();
      outboxes.clear();
    },
  };
}
