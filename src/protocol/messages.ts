import type { ConnectionStatus, Filter, Position, StreamSpec } from './stream.js';
import type { HeadersInit, WireEvent } from './types.js';

declare const __SSEMUX_VERSION__: string;

/**
 * Version of the tab-to-hub protocol. Bump it on any change to the shapes below. Together with the
 * package version it names the worker, the locks and the channels ({@link NAMESPACE}), so a tab
 * never talks to a hub of another release: two releases side by side run two hubs.
 */
export const PROTOCOL_VERSION = 4;

/** The package version, set by the build. */
export const VERSION: string = typeof __SSEMUX_VERSION__ === 'string' ? __SSEMUX_VERSION__ : '0.0.0-dev';

/** Prefix of every worker, lock and channel name of this release. */
export const NAMESPACE = `ssemux@${VERSION}/${PROTOCOL_VERSION}`;

/** Events for one subscription, in order, and where its stream stands after them. */
export interface EventsFrame {
  sub: number;
  /**
   * May be empty: the stream moved on with events of other types. Subscriptions with the same
   * filter get the same array (see {@link WireFrame}).
   */
  events: WireEvent[];
  at: Position;
}
/** A status change of one subscription's stream. */
export interface StatusFrame {
  sub: number;
  status: ConnectionStatus;
}
/** One item of a delivery; frames keep the order in which things happened. */
export type Frame = EventsFrame | StatusFrame;

/**
 * A frame as it crosses to another realm: the events serialized once per flush, as one string
 * every tab's message copies (src/sharing/encode-frames.ts), rather than cloned object by object
 * for each tab.
 */
export type WireFrame = { sub: number; e: string; at: Position } | StatusFrame;

/**
 * Hub to tab, after its calls on the tab's port (SharedWorker) or channel (leader): the welcome
 * once attached, then one message per tab per flush (never one per event), and pings where
 * there are no Web Locks.
 */
export type DataMessage = { welcome: Welcome } | { frames: WireFrame[] } | { ping: number };

/** What a subscriber asks of the hub. */
export interface SubscribeRequest {
  sub: number;
  spec: StreamSpec;
  filter: Filter;
  /** Where the subscriber stands: the hub resumes it from here, exactly. */
  position: Position;
  /** The subscriber owns a headers provider the hub may ask before an attempt. */
  provider: boolean;
}

/** What a hub says once a tab is attached, its first {@link DataMessage}. */
export interface Welcome {
  v: number;
  /** Name of a Web Lock the hub holds for its lifetime: granting it to a tab means the hub died. */
  lifeLock?: string;
  /** Without Web Locks the hub pings the tab this often; silence means it died. */
  pingMs?: number;
}

/**
 * Control plane exposed by a hub (in the SharedWorker, or in the leader tab; src/sharing/rpc.ts), one
 * instance per connected tab. Never on the per-event path. A tab awaits none of its calls: they
 * are handled in the order sent, so it subscribes right after attaching, without a round trip.
 */
export interface HubControl {
  /**
   * Registers the tab, which from then on receives {@link DataMessage}s where it reaches the hub.
   * The first is the {@link Welcome}, once the hub holds its life lock.
   */
  attach(): void;
  /** The tab now holds `tabLock` for its lifetime: the hub waits on it to notice a dead tab. */
  watch(tabLock: string): void;
  subscribe(request: SubscribeRequest): void;
  /** A new filter; `position` is where the subscriber stood when it changed: topics it adds are read from there. */
  update(sub: number, filter: Filter, position: Position): void;
  /** `grace`: the page is going away and may come back (a reload); otherwise the stream may close now. */
  unsubscribe(sub: number, grace: boolean): void;
  /** The tab leaves (pagehide): drop all its subscriptions, with the grace period. */
  detach(): void;
  /** The tab's answer to a ping, where there are no Web Locks to notice dead tabs. */
  pong(): void;
}

/** What the hub may call on a tab: the tab-owned headers provider. */
export interface TabControl {
  /** Rejects when the subscription's credentials changed (it moves to its new stream itself). */
  headers(sub: number): Promise<HeadersInit>;
}

/** Leader election, on the group's channel. Everything else travels on per-tab channels. */
export type GroupMessage =
  | { v: typeof PROTOCOL_VERSION; kind: 'leader'; tab: string }
  | { v: typeof PROTOCOL_VERSION; kind: 'who' };

/** On a tab's own channel: from whom, and either a control-plane message or hub data. */
export type InboxMessage = { from: string; c: unknown } | { from: string; d: DataMessage };
