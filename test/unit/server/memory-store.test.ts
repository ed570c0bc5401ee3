// memoryStore: cursors, exact resets, retention by count and age, live listeners.
import { describe, expect, it } from 'vitest';
import { memoryStore, type StoredEvent } from 'ssemux/server';
import { sleep } from '../../conformance/sse-client.js';

const event = (data: string, topic = 't') => ({ topic, type: 'message', data });

describe('memoryStore', () => {
  it('numbers events <generation>-1, -2, … with a generation of its own per store', async () => {
    const a = memoryStore();
    const b = memoryStore();
    const [a1, a2] = [await a.append(event('1')), await a.append(event('2'))];
    const b1 = await b.append(event('x'));
    const generation = a1.cursor.split('-')[0]!;
    expect(a1.cursor).toBe(`${generation}-1`);
    expect(a2.cursor).toBe(`${generation}-2`);
    expect(b1.cursor.split('-')[0]).not.toBe(generation);
    expect(b1.cursor.endsWith('-1')).toBe(true);
    expect(await a.head()).toBe(a2.cursor);
    expect(await memoryStore().head()).toMatch(/^\d+-0$/);
  });

  it('reads after a cursor, up to a limit; 0-0 and the empty head read from the start', async () => {
    const store = memoryStore();
    const empty = await store.head();
    const events: StoredEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(await store.append({ ...event(String(i)), user: i === 2 ? 'ann' : undefined }));
    expect(await store.read(events[1]!.cursor, 2)).toEqual({ reset: undefined, events: events.slice(2, 4) });
    expect((await store.read('0-0', 10)).events).toEqual(events);
    expect((await store.read(empty, 10)).events).toEqual(events);
    expect((await store.read(events[4]!.cursor, 10)).events).toEqual([]);
    expect(events[2]!.user).toBe('ann');
  });

  it('keeps maxEvents; a cursor is a retention reset exactly when the event after it is gone', async () => {
    const store = memoryStore({ maxEvents: 3 });
    const events: StoredEvent[] = [];
    for (let i = 0; i < 6; i++) events.push(await store.append(event(String(i))));
    // Kept: 3, 4, 5. A client at 2 lost nothing; at 1 it lost 2.
    expect(await store.read(events[2]!.cursor, 10)).toEqual({ reset: undefined, events: events.slice(3) });
    expect(await store.read(events[1]!.cursor, 10)).toEqual({ reset: { reason: 'retention', cursor: events[2]!.cursor }, events: events.slice(3) });
    expect((await store.read('0-0', 10)).reset).toEqual({ reason: 'retention', cursor: events[2]!.cursor });
  });

  it('drops events older than maxAgeMs', async () => {
    const store = memoryStore({ maxAgeMs: 50 });
    const old = await store.append(event('old'));
    await sleep(80);
    const fresh = await store.append(event('fresh'));
    expect(await store.read(old.cursor, 10)).toEqual({ reset: undefined, events: [fresh] });
    expect((await store.read('0-0', 10)).reset).toEqual({ reason: 'retention', cursor: old.cursor });
  });

  it('answers a cursor of another store, of the future, or no cursor at all with unknown-cursor', async () => {
    const store = memoryStore({ maxEvents: 2 });
    const events: StoredEvent[] = [];
    for (let i = 0; i < 3; i++) events.push(await store.append(event(String(i))));
    const foreign = (await memoryStore().append(event('x'))).cursor;
    const generation = events[0]!.cursor.split('-')[0];
    for (const cursor of [foreign, `${generation}-99`, 'garbage', '', '1-']) {
      expect(await store.read(cursor, 10), cursor).toEqual({ reset: { reason: 'unknown-cursor', cursor: events[0]!.cursor }, events: events.slice(1) });
    }
  });

  it('hands appended events to listeners in order, also when a listener appends', async () => {
    const store = memoryStore();
    const seen: string[][] = [[], []];
    await store.subscribe({
      event: (e) => {
        seen[0]!.push(e.data);
        if (e.data === 'first') void store.append(event('from listener'));
      },
      lost: () => {},
    });
    await store.subscribe({ event: (e) => seen[1]!.push(e.data), lost: () => {} });
    await store.append(event('first'));
    await store.append(event('second'));
    expect(seen[0]).toEqual(['first', 'from listener', 'second']);
    expect(seen[1]).toEqual(seen[0]);
  });

  it('ends the subscription of a listener that throws, and goes on for the others', async () => {
    const store = memoryStore();
    const lost: unknown[] = [];
    const other: string[] = [];
    await store.subscribe({
      event: () => {
        throw new Error('boom');
      },
      lost: (error) => lost.push(error),
    });
    const unsubscribe = await store.subscribe({ event: (e) => other.push(e.data), lost: () => {} });
    await store.append(event('a'));
    await store.append(event('b'));
    expect(lost).toHaveLength(1);
    expect(other).toEqual(['a', 'b']);
    unsubscribe();
    await store.append(event('c'));
    expect(other).toEqual(['a', 'b']);
  });

  it('refuses appends and subscriptions once closed', async () => {
    const store = memoryStore();
    await store.close();
    await expect(store.append(event('x'))).rejects.toThrow(/closed/);
    await expect(store.subscribe({ event: () => {}, lost: () => {} })).rejects.toThrow(/closed/);
  });

  it('rejects bad options', () => {
    expect(() => memoryStore({ maxEvents: 0 })).toThrow(/maxEvents/);
    expect(() => memoryStore({ maxAgeMs: 0 })).toThrow(/maxAgeMs/);
  });
});
