import { describe, expect, it } from 'vitest';
import { EventSourcePolyfill, SharedEventSource } from '../../../src/eventsource/index.js';

// The EventSource interface itself, in Node: the client is inert here (no window), so nothing
// connects; the browser tests compare the behaviour with the platform's.

describe('SharedEventSource: the EventSource interface', () => {
  it('constants on the class and its prototype, fixed and enumerable as the platform has them', () => {
    const es = new SharedEventSource('http://127.0.0.1:9/events');
    expect([SharedEventSource.CONNECTING, SharedEventSource.OPEN, SharedEventSource.CLOSED]).toEqual([0, 1, 2]);
    expect([es.CONNECTING, es.OPEN, es.CLOSED]).toEqual([0, 1, 2]);
    expect(Object.getOwnPropertyDescriptor(SharedEventSource, 'OPEN')).toEqual({ value: 1, writable: false, enumerable: true, configurable: false });
    expect(Object.keys(es)).toEqual([]);
    expect(es.readyState).toBe(0);
    expect(es.url).toBe('http://127.0.0.1:9/events');
    expect(es.withCredentials).toBe(false);
    es.close();
    expect(es.readyState).toBe(2);
  });

  it('null options are no options, as WebIDL makes them for the platform (and the original polyfill)', () => {
    const es = new SharedEventSource('http://127.0.0.1:9/events', null);
    expect(es.withCredentials).toBe(false);
    es.close();
    new EventSourcePolyfill('http://127.0.0.1:9/events', null).close();
  });

  it('a URL that cannot be parsed throws a SyntaxError DOMException', () => {
    expect(() => new SharedEventSource('http://[')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
  });

  it('on… attributes: a listener at the place of the first assignment, replaced in place, removed by null; this is the source', () => {
    const es = new SharedEventSource('http://127.0.0.1:9/events');
    const order: string[] = [];
    let self: unknown;
    es.onmessage = () => order.push('first handler');
    es.addEventListener('message', () => order.push('listener'));
    es.onmessage = function () {
      self = this;
      order.push('second handler');
    };
    es.dispatchEvent(new MessageEvent('message'));
    expect(order).toEqual(['second handler', 'listener']);
    expect(self).toBe(es);
    es.onmessage = null;
    expect(es.onmessage).toBeNull();
    es.dispatchEvent(new MessageEvent('message'));
    expect(order).toEqual(['second handler', 'listener', 'listener']);
    es.close();
  });

  it('EventSourcePolyfill is one, with its options', () => {
    const es = new EventSourcePolyfill('http://127.0.0.1:9/events', { headers: { Authorization: 'Bearer x' }, heartbeatTimeout: 60_000, lastEventIdQueryParameterName: 'last' });
    expect(es).toBeInstanceOf(SharedEventSource);
    expect(es.readyState).toBe(0);
    es.close();
  });

  it('options the client cannot use throw as the client does', () => {
    expect(() => new SharedEventSource('http://127.0.0.1:9/events', { transport: 'eventsource', headers: { A: 'b' } })).toThrow(/cannot send headers/);
  });
});
