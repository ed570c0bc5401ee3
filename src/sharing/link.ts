import type { ConnectionStatus, Filter, Position, StreamSpec, TabCount } from '../protocol/stream.js';
import type { EventsFrame } from '../protocol/tab-hub-messages.js';
import type { HeadersInit, ResolvedSharing, StatusError } from '../protocol/types.js';

/** A client's stream as a link needs it. */
export interface LinkSubscriber {
  spec: StreamSpec;
  filter(): Filter;
  /** Where the client stands. Links resubscribe from it whenever they reach a new hub. */
  position(): Position;
  /**
   * Through where its stream's `tabs: 'one'` listeners have run, as it last heard, and the ids of
   * those it ran since: links resubscribe with them too.
   */
  oneDone(): { done?: Position; ran: string[] };
  /** Topics it was still catching up on, as it last heard: links resubscribe with them too. */
  joining(): Record<string, Position> | undefined;
  /** The client's headers provider, when it has one. Rejects when its credentials changed. */
  headers?: () => Promise<HeadersInit>;
  /** Events of its filter, then where the stream stands after them (and what else the hub has for it). */
  onFrame(frame: EventsFrame): void;
  onStatus(status: ConnectionStatus): void;
  /** The tabs attached to its stream changed. */
  onTabs(tabs: TabCount): void;
  /** The link cannot serve this subscriber any more; the client moves to the next link. */
  onLost(error: StatusError): void;
}

/** A live subscription on a link. */
export interface LinkSubscription {
  update(filter: Filter): void;
  /** It claims its one-events through number `seq` and waits for the go. */
  claim(seq: number): void;
  /** It ran its `tabs: 'one'` listeners through its one-event number `seq`. */
  ran(seq: number): void;
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
  /**
   * Whether this tab is the first of the browser to use a hub of this kind (none ran before it),
   * where a hub takes long to start (a SharedWorker): `false` as soon as one welcomes the tab.
   */
  alone?(): Promise<boolean>;
}
