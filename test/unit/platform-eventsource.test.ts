// The platform's EventSource dispatches its own `open` and `error` as plain Events on the same
// target as the stream's events: a listener of an event type named `open` or `error` (an app whose
// server sends `event: error`) hears them too. Read by the engine's `eventsource` transport and by
// the first tab's own stream; neither may take them for events.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openEarlyStream } from '../../src/client/early-stream.js';
import { createConnectionScope } from '../../src/engine/connection-scope.js';
import type { Connection } from '../../src/engine/connection.js';
import type { WireEvent } from '../../src/protocol/types.js';
import { settle } from '../support/fake-time.js';
import { openConnection } from '../support/open-connection.js';

/**
 * The platform's EventSource as the HTML spec has it: `open` and `error` are plain Events
 * dispatched on it (the `on…` attributes are listeners in the order first set), and a message's
 * `lastEventId` is the source's last event id.
 */
class PlatformEventSource extends EventTarget {
  static made: PlatformEventSource[] = [];
  readyState = 0;
  private lastId = '';
  private readonly handlers = new Map<string, ((e: Event) => void) | null>();
  constructor(readonly url: string) {
    super();
    PlatformEventSource.made.push(this);
  }
  private handler(type: string, fn: ((e: Event) => void) | null): void {
    if (!this.handlers.has(type)) this.addEventListener(type, (e) => this.handlers.get(type)?.call(this, e));
    this.handlers.set(type, fn);
  }
  set onopen(fn: ((e: Event) => void) | null) {
    this.handler('open', fn);
  }
  set onerror(fn: ((e: Event) => void) | null) {
    this.handler('error', fn);
  }
  open(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }
  message(type: string, data: string, id?: string): void {
    if (id !== undefined) this.lastId = id;
    this.dispatchEvent(new MessageEvent(type, { data, lastEventId: this.lastId }));
  }
  /** The connection broke: the platform says `error` (and would reconnect by itself). */
  fail(): void {
    this.readyState = 0;
    this.dispatchEvent(new Event('error'));
  }
  close(): void {
    this.readyState = 2;
  }
}

const opened: Connection[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  PlatformEventSource.made = [];
  vi.stubGlobal('EventSource', PlatformEventSource);
});
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("the 'eventsource' transport, with listeners of types named open and error", () => {
  it('hands on the stream\'s events only, and a server\'s "event: error" among them', async () => {
    const c = openConnection('http://127.0.0.1:9/es-types', opened, {
      scope: createConnectionScope(),
      transport: 'eventsource',
      customHeaders: false,
      eventTypes: ['message', 'open', 'error'],
    });
    await settle();
    const es = PlatformEventSource.made[0]!;
    es.open();
    es.message('message', 'a', '5');
    es.message('error', 'quota exceeded', '6');
    es.fail();
    await settle();
    expect(c.events).toEqual([
      { type: 'message', data: 'a', id: '5' },
      { type: 'error', data: 'quota exceeded', id: '6' },
    ]);
  });

  it('a dropped connection resumes from the last event id', async () => {
    const c = openConnection('http://127.0.0.1:9/es-resume', opened, {
      scope: createConnectionScope(),
      transport: 'eventsource',
      customHeaders: false,
      eventTypes: ['message', 'error'],
    });
    await settle();
    const es = PlatformEventSource.made[0]!;
    es.open();
    es.message('message', 'a', '5');
    expect(c.events.map((e) => e.id)).toEqual(['5']);
    es.fail();
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(new URL(PlatformEventSource.made[1]!.url).searchParams.get('lastEventId')).toBe('5');
  });
});

describe("the first tab's own stream, with a listener of a type named open", () => {
  it("hands on the stream's events, not the platform's open", () => {
    const got: WireEvent[] = [];
    openEarlyStream('http://127.0.0.1:9/early', false, ['x', 'open'], { event: (e) => got.push(e), failed() {} });
    const es = PlatformEventSource.made[0]!;
    es.open();
    es.message('x', 'a', '1');
    expect(got).toEqual([{ type: 'x', data: 'a', id: '1' }]);
  });
});

describe("the 'eventsource' transport and maxEventSize", () => {
  it('drops an event over maxEventSize and reports event-too-large, as the other transports do; the id moves on', async () => {
    const c = openConnection('http://127.0.0.1:9/es-size', opened, {
      scope: createConnectionScope(),
      transport: 'eventsource',
      customHeaders: false,
      eventTypes: ['message'],
      maxEventSize: 1000,
    });
    await settle();
    const es = PlatformEventSource.made[0]!;
    es.open();
    es.message('message', 'x'.repeat(5000), '1');
    es.message('message', 'small', '2');
    await settle();
    expect(c.events).toEqual([{ type: 'message', data: 'small', id: '2' }]);
    expect(c.statuses.find((s) => s.error?.code === 'event-too-large')).toMatchObject({ state: 'open' });
    // Dropped, not lost track of: a reconnect right after it resumes past it.
    es.message('message', 'y'.repeat(5000), '3');
    es.fail();
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(new URL(PlatformEventSource.made[1]!.url).searchParams.get('lastEventId')).toBe('3');
  });
});
