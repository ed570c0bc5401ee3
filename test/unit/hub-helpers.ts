/** Helpers of the hub's tests: a hub whose upstreams are fakes the test drives, and tabs that record what it delivers. */
import { vi } from 'vitest';
import type { Connection } from '../../src/engine/connection.js';
import type { UpstreamOptions as ConnectionOptions } from '../../src/hub/hub.js';
import { createHub, type Hub as RealHub, type HubEndpoint, type HubOptions } from '../../src/hub/hub.js';
import type { Frame, SubscribeMessage } from '../../src/protocol/tab-hub-messages.js';
import { START, type ConnectionStatus, type Position, type StreamSpec } from '../../src/protocol/stream.js';
import type { HeadersInit, WireEvent } from '../../src/protocol/types.js';
import { spec as sharingSpec } from './sharing/helpers.js';

export interface FakeConnection {
  options: ConnectionOptions;
  closed: boolean;
  listened: string[];
  restarts: { url?: string; lastEventId?: string }[];
  status(state: ConnectionStatus['state'], extra?: Partial<ConnectionStatus>): void;
  /** The server sends an event with an id (its type and data named after the id by default). */
  event(id: string, type?: string, data?: string): void;
  /** An id-only block: the stream moves without an event. */
  idOnly(id: string): void;
}

export function status(state: ConnectionStatus['state'], extra: Partial<ConnectionStatus> = {}): ConnectionStatus {
  return { state, reason: 'updated', transport: 'fetch', attempt: 0, lastEventId: '', ...extra };
}

/** A hub with fake upstreams; its lineages are `<lineagePrefix>1`, `<lineagePrefix>2`… (another prefix per hub of one test). */
export function setup(options: Omit<HubOptions, 'connect' | 'schedule' | 'lineage'> = {}, lineagePrefix = 'L') {
  const made: FakeConnection[] = [];
  const queue: (() => void)[] = [];
  const connect = vi.fn((opts: ConnectionOptions): Connection => {
    let current = status('connecting', { lastEventId: opts.lastEventId });
    const fake: FakeConnection = {
      options: opts,
      closed: false,
      listened: [],
      restarts: [],
      status(state, extra = {}) {
        current = status(state, extra);
        opts.onStatus(current);
      },
      event(id, type = 'message', data = `d${id}`) {
        opts.onEvent({ type, data, id });
      },
      idOnly(id) {
        opts.onId?.(id);
      },
    };
    made.push(fake);
    // Like createConnection: the first status is reported before the connection is returned.
    opts.onStatus(current);
    return {
      get status() {
        return current;
      },
      listen: (type) => void fake.listened.push(type),
      reconnectNow: () => {},
      restart: (change = {}) => void fake.restarts.push(change),
      close() {
        if (fake.closed) return;
        fake.closed = true;
        fake.status('closed');
      },
    };
  });
  let lineages = 0;
  const hub = callsOf(createHub({ ...options, connect, schedule: (f) => void queue.push(f), lineage: () => `${lineagePrefix}${++lineages}` }));
  const flush = () => {
    for (const f of queue.splice(0)) f();
  };
  return { hub, made, connect, flush };
}

export type SubscribeRequest = Omit<SubscribeMessage, 'kind'>;

/** The hub's requests as calls, the way these tests read best. */
export function callsOf(hub: RealHub) {
  return {
    close: hub.close,
    attach(endpoint: HubEndpoint) {
      const peer = hub.attach(endpoint);
      return {
        subscribe: (request: SubscribeRequest) => peer.handle({ kind: 'subscribe', ...request }),
        update: (sub: number, filter: SubscribeRequest['filter'], position: Position) => peer.handle({ kind: 'update', sub, filter, position }),
        unsubscribe: (sub: number, grace: boolean) => peer.handle({ kind: 'unsubscribe', sub, grace }),
        detach: () => peer.handle({ kind: 'detach' }),
        visibility: (visible: boolean, focusedAt = 0) => peer.handle({ kind: 'visibility', visible, focusedAt }),
        ran: (sub: number, seq: number) => peer.handle({ kind: 'ran', sub, seq }),
        claim: (sub: number, seq: number) => peer.handle({ kind: 'claim', sub, seq }),
        /** Any message, as a tab of another build could send it. */
        handle: (message: unknown) => peer.handle(message as Parameters<typeof peer.handle>[0]),
      };
    },
  };
}

/** A tab: its deliveries, and the positions its subscriptions hold, as the tab side keeps them. */
export function endpoint(headers?: (sub: number) => Promise<HeadersInit>) {
  const deliveries: Frame[][] = [];
  const positions = new Map<number, Position>();
  const ep: HubEndpoint & { deliveries: Frame[][]; positions: Map<number, Position>; headersCalls: number[] } = {
    deliveries,
    positions,
    headersCalls: [],
    deliver(frames) {
      deliveries.push(frames);
      for (const f of frames) if ('events' in f) positions.set(f.sub, f.at);
    },
    headers(sub) {
      ep.headersCalls.push(sub);
      return headers ? headers(sub) : Promise.resolve({});
    },
  };
  return ep;
}

export type Ep = ReturnType<typeof endpoint>;

/** Ids delivered to `sub`, in order. */
export const idsOf = (ep: Ep, sub = 1): string[] =>
  ep.deliveries.flat().flatMap((f) => ('events' in f && f.sub === sub ? f.events.map((e) => e.id) : []));
export const eventsOf = (ep: Ep, sub = 1): WireEvent[] =>
  ep.deliveries.flat().flatMap((f) => ('events' in f && f.sub === sub ? f.events : []));
export const statesOf = (ep: Ep, sub = 1): string[] =>
  ep.deliveries.flat().flatMap((f) => ('status' in f && f.sub === sub ? [f.status.state] : []));

/** A stream spec of the hub's tests (the sharing tests' spec, at another URL). */
export function spec(over: Partial<StreamSpec> = {}): StreamSpec {
  return sharingSpec({ url: 'http://127.0.0.1:9/stream', ...over });
}

export function req(over: Partial<SubscribeRequest> = {}): SubscribeRequest {
  return { sub: 1, spec: spec(), filter: { types: ['*'] }, position: START, provider: false, ...over };
}

