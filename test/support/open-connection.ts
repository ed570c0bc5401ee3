import { createConnection, type Connection, type ConnectionOptions } from '../../src/engine/connection.js';
import { createConnectionScope } from '../../src/engine/connection-scope.js';
import type { ConnectionStatus } from '../../src/protocol/stream.js';
import type { WireEvent } from '../../src/protocol/types.js';

/** A connection the engine's tests drive, with what it reported. */
export interface OpenedConnection {
  connection: Connection;
  events: WireEvent[];
  statuses: ConnectionStatus[];
  /** The latest status. */
  last(): ConnectionStatus;
  /** Every state it went through, in order. */
  states(): ConnectionStatus['state'][];
}

/**
 * Opens a connection to `url` with the tests' settings (a fetch stream, no heartbeat to speak of,
 * a pinned backoff draw, an `online` source of its own), recording its events and statuses;
 * `overrides` replace any of them. It is pushed onto `opened`, for the test to close.
 */
export function openConnection(url: string, opened: Connection[], overrides: Partial<ConnectionOptions> = {}): OpenedConnection {
  const events: WireEvent[] = [];
  const statuses: ConnectionStatus[] = [];
  const connection = createConnection({
    url,
    transport: 'fetch',
    withCredentials: false,
    method: 'GET',
    backoff: { initialMs: 1000, maxMs: 30_000, factor: 2 },
    heartbeatTimeoutMs: 600_000,
    maxEventSize: 1024 * 1024,
    maxConnections: 4,
    scope: createConnectionScope(),
    stableAfterMs: 5000,
    headers: () => ({}),
    customHeaders: true,
    lastEventId: '',
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    random: () => 0.5,
    onlineTarget: new EventTarget(),
    ...overrides,
  });
  opened.push(connection);
  return { connection, events, statuses, last: () => statuses[statuses.length - 1]!, states: () => statuses.map((s) => s.state) };
}
