import type { ConnectionStatus, Filter, Position, StreamSpec } from '../protocol/stream.js';
import type { HeadersInit, ResolvedSharing, StatusError, WireEvent } from '../protocol/types.js';

/** A client's stream as a link needs it. */
export interface LinkSubscriber {
  spec: StreamSpec;
  filter(): Filter;
  /** Where the client stands. Links resubscribe from it whenever they reach a new hub. */
  position(): Position;
  /** The client's headers provider, when it has one. Rejects when its credentials changed. */
  headers?: () => Promise<HeadersInit>;
  /** Events of its filter, then where the stream stands after them. */
  onEvents(events: WireEvent[], at: Position): void;
  onStatus(status: ConnectionStatus): void;
  /** The link cannot serve this subscriber any more; the client moves to the next link. */
  onLost(error: StatusError): void;
}

/** A live subscription on a link. */
export interface LinkSubscription {
  update(filter: Filter): void;
  /** The client is done: the stream may close at once when no one else uses it. */
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
