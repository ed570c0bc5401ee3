import type { ConnectionStatus, StreamSpec, TypeFilter } from '../protocol/stream.js';
import type { HeadersInit, ResolvedSharing, StatusError, WireEvent } from '../protocol/types.js';

/** A client's stream as a link needs it. */
export interface LinkSubscriber {
  spec: StreamSpec;
  types(): TypeFilter;
  /**
   * Where to resume: the id of the last event the client got. Links call it at every
   * (re)subscription, and the client then drops events it already delivered, which a new
   * upstream that resumed from an older id replays.
   */
  resumeFrom(): string;
  /** The client's headers provider, when it has one. */
  headers?: () => Promise<HeadersInit>;
  onEvents(events: WireEvent[]): void;
  onStatus(status: ConnectionStatus): void;
  /** The link cannot serve this subscriber any more; the client moves to the next link. */
  onLost(error: StatusError): void;
}

/** A live subscription on a link. */
export interface LinkSubscription {
  setTypes(types: TypeFilter): void;
  close(): void;
}

/**
 * How a tab reaches a hub: in a SharedWorker, in a leader tab, or in the tab itself. Links
 * differ in the channel, never in the routing, which is the hub's.
 */
export interface Link {
  readonly sharing: ResolvedSharing;
  subscribe(subscriber: LinkSubscriber): LinkSubscription;
}
