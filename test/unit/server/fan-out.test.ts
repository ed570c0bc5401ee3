// The fan-out under a burst: the server (alone in its process) keeps serving while it hands 500
// events to 1,000 connections, and every connection gets every event, in order. And what it
// does when it cannot keep up at all.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { openSse, sleep } from '../../conformance/sse-client.js';
import { eventually, onCleanup, startRealtime } from './helpers.js';
import { startServerProcess } from './server-process.js';

/** An SSE reader light enough for a thousand of it: the numbers of the events it got, in order. */
function numbersOf(port: number, agent: http.Agent): Promise<{ numbers: number[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/events?topic=burst', agent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.setEncoding('utf8');
      const got = { numbers: [] as number[] };
      let carry = '';
      res.on('data', (chunk: string) => {
        const text = carry + chunk;
        const end = text.lastIndexOf('\n\n') + 2;
        for (const match of text.slice(0, end).matchAll(/\ndata: burst\ndata: (\d+)\n/g)) got.numbers.push(Number(match[1]));
        carry = text.slice(end);
        if (text.includes('retry:')) resolve(got);
      });
      res.on('error', () => {});
    });
    req.on('error', reject);
    onCleanup(async () => void req.destroy());
  });
}

describe('fan-out', () => {
  it('hands 500 events to 1,000 connections without holding the event loop for long, every event to every connection, in order', async () => {
    const server = await startServerProcess();
    const port = Number(new URL(server.url).port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    onCleanup(async () => agent.destroy());
    const readers: Array<{ numbers: number[] }> = [];
    for (let i = 0; i < 1_000; i += 100) readers.push(...(await Promise.all(Array.from({ length: 100 }, () => numbersOf(port, agent)))));
    await eventually(() => server.call<{ openSse: number }>('stats'), (stats) => expect(stats.openSse).toBe(1_000));

    await server.call('startMonitor');
    console.log('BURST', await server.call('burst', { topic: 'burst', count: 500 }));
    const expected = Array.from({ length: 500 }, (_, i) => i);
    await eventually(() => readers.filter((reader) => reader.numbers.length < 500).length, (behind) => expect(behind).toBe(0), 60_000);
    const longest = await server.call<{ wall: number; cpu: number }>('stopMonitor');
    console.log("LONGEST", JSON.stringify(longest));
    for (const reader of readers) expect(reader.numbers).toEqual(expected);
    // fanOutSliceMs is 20; the publishing loop itself holds the loop too (500 awaited publishes
    // never yield to I/O), and GC. The slack is for a loaded 2-core machine: the readers share
    // it, and a gap may be time spent waiting for a core (CPU time does not count that). Handed
    // out in one go, the same burst holds the loop for over 10 s.
    expect(longest.cpu, JSON.stringify(longest)).toBeLessThan(250);
  }, 120_000);

  it('ends the streams that would get the events once more than maxFanOutBacklog wait, and they resume from their cursors', async () => {
    const errors: unknown[] = [];
    // A slice too short to hand out even one event per turn, and a backlog of 5.
    const { url, realtime } = await startRealtime({ fanOutSliceMs: 1, maxFanOutBacklog: 5, onError: (error) => errors.push(error) });
    const streams = await Promise.all(Array.from({ length: 300 }, () => openSse(`${url}?topic=t`)));
    const other = await openSse(`${url}?topic=quiet`);
    await eventually(() => realtime.stats().openSse, (n) => expect(n).toBe(301));
    const cursors: string[] = [];
    for (let i = 0; i < 50; i++) cursors.push(await realtime.publish({ topic: 't', data: String(i) }));
    await eventually(() => realtime.stats().openSse, (n) => expect(n).toBe(1));
    expect(String(errors[0])).toMatch(/fell 5 events behind/);
    expect(other.state).toBe('open');
    // Whatever a stream got before it ended was in order; resuming from its cursor gives the rest.
    const one = streams[0]!;
    const got = one.events.map((event) => event.id);
    expect(got).toEqual(cursors.slice(0, got.length));
    const resumed = await openSse(`${url}?topic=t`, { headers: { 'Last-Event-ID': one.lastEventId } });
    await resumed.until((events) => events.length === 50 - got.length);
    await sleep(50);
    expect([...got, ...resumed.events.map((event) => event.id)]).toEqual(cursors);
  });

});
