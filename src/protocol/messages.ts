import type { ConnectionStatus, StreamSpec, TypeFilter } from './stream.js';
import type { HeadersInit, WireEvent } from './types.js';

/**
 * Version of the tab-to-hub protocol. Bump it on any change to the shapes below: a tab that meets
 * a worker of another version (a worker that outlived a deploy) does not talk to it.
 */
export const PROTOCOL_VERSION = 1;

/** Events for one subscription, in order. */
export interface EventsFrame {
  kind: 'events';
  sub: number;
  events: WireEvent[];
}
/** A status change of one subscription's stream. */
export interface StatusFrame {
  kind: 'status';
  sub: number;
  status: ConnectionStatus;
}
/** One item of a delivery; frames keep the order in which things happened. */
export type Frame = EventsFrame | StatusFrame;

/**
 * Hub to tab, on the data port: one message per tab per flush, never one per event.
 */
export interface DeliverMessage {
  v: typeof PROTOCOL_VERSION;
  kind: 'deliver';
  frames: Frame[];
}

/** What a subscriber asks of the hub. */
export interface SubscribeRequest {
  sub: number;
  spec: StreamSpec;
  types: TypeFilter;
  /** Resume point when the stream is opened by this subscriber (after a worker restart). */
  lastEventId: string;
}

/** Answer to {@link HubControl.hello}. */
export interface Welcome {
  v: number;
  /** Name of a Web Lock the hub holds for its lifetime: granting it to a tab means the hub died. */
  lifeLock: string;
}

/**
 * Control plane exposed by the worker over Comlink, one instance per connected tab. Never on the
 * per-event path.
 */
export interface HubControl {
  /** First call: checks the version and returns the hub's life lock, once the hub holds it. */
  hello(version: number): Welcome | Promise<Welcome>;
  /**
   * Registers the tab. `data` receives {@link DeliverMessage}s; `calls` exposes {@link TabControl}.
   * `tabLock` is a Web Lock the tab holds for its lifetime: the hub waits on it to notice a dead tab.
   */
  attach(tabLock: string, data: MessagePort, calls: MessagePort): void;
  subscribe(request: SubscribeRequest): void;
  setTypes(sub: number, types: TypeFilter): void;
  unsubscribe(sub: number): void;
  /** The tab leaves (client closed or pagehide): drop all its subscriptions now. */
  detach(): void;
}

/** What the hub may call on a tab, over Comlink: the tab-owned headers provider. */
export interface TabControl {
  headers(sub: number): Promise<HeadersInit>;
}

/** A frame of the leader's broadcast, addressed to one tab's subscription. */
export type AddressedFrame = Frame & { tab: string };

/**
 * Leader election over BroadcastChannel (no SharedWorker). Every tab of a credentials group hears
 * every message; `tab` says whose it is. The leader broadcasts one `deliver` per flush for all
 * followers, so every follower sees the same sequence.
 */
export type LeaderMessage = { v: typeof PROTOCOL_VERSION } & LeaderBody;

/** {@link LeaderMessage} without its version. */
export type LeaderBody =
  | { kind: 'leader'; tab: string }
  | { kind: 'deliver'; frames: AddressedFrame[] }
  | { kind: 'headers'; tab: string; sub: number; id: number }
  | { kind: 'subscribe'; tab: string; request: SubscribeRequest }
  | { kind: 'set-types'; tab: string; sub: number; types: TypeFilter }
  | { kind: 'unsubscribe'; tab: string; sub: number }
  | { kind: 'detach'; tab: string }
  | { kind: 'headers-reply'; id: number; headers?: HeadersInit; error?: string };
