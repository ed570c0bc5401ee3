// Clients that do not read, and bodies that do not end: what each costs the server, measured
// in the server's own process where memory is concerned.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../conformance/sse-client.js';
import { eventually, listen, onCleanup } from './helpers.js';
import { createRealtimeServer } from 'ssemux/server';
import { startServerProcess } from './server-process.js';

const MiB = 1024 * 1024;

/** Opens `count` raw connections that send `request` and then never read a byte. */
async function stalledClients(url: string, count: number, request: string): Promise<net.Socket[]> {
  const { port } = new URL(url);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    onCleanup(async () => void socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(request);
    socket.pause();
    sockets.push(socket);
  }
  return sockets;
}

describe('clients that never read', () => {
  it('10 long-polls asking for 300 events of 64 KiB each from the start cost the server a few MiB, not the whole replay', async () => {
    const server = await startServerProcess({ memoryStore: { maxEvents: 1_000 } });
    await server.call('fill', { topic: 't', count: 300, bytes: 64 * 1024 });
    const base = await server.call<number>('rss');
    await stalledClients(server.url, 10, 'GET /events?topic=t&transport=long-poll HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0-0\r\n\r\n');
    await eventually(() => server.call<{ connections: number }>('stats'), (stats) => expect(stats.connections).toBe(10));
    let peak = 0;
    for (let i = 0; i < 8; i++) {
      await sleep(250);
      peak = Math.max(peak, await server.call<number>('rss'));
    }
    // What waits per client: what the socket's buffers took, and one event (the replay waits for
    // the client); an answer stops at maxLongPollBytes (1 MiB, 17 events of 64 KiB).
    expect((peak - base) / MiB).toBeLessThan(40);
    expect((await server.call<{ eventsSent: number }>('stats')).eventsSent).toBeLessThanOrEqual(10 * 17);
  });

  it('cuts a replay or a long-poll answer whose client reads nothing for writeTimeoutMs: the client finds the end once it reads', async () => {
    // More than the kernel's socket buffers take (a few MiB on loopback), in one answer.
    const server = await startServerProcess({ options: { writeTimeoutMs: 500, maxLongPollBytes: 64 * MiB } });
    await server.call('fill', { topic: 't', count: 300, bytes: 64 * 1024 });
    const sockets = [
      ...(await stalledClients(server.url, 2, 'GET /events?topic=t&transport=long-poll HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0-0\r\n\r\n')),
      ...(await stalledClients(server.url, 2, 'GET /events?topic=t HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0-0\r\n\r\n')),
    ];
    const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    await eventually(() => server.call<{ connections: number }>('stats'), (stats) => expect(stats.connections).toBe(4));
    await eventually(() => server.call<{ openStreams: number }>('stats'), (stats) => expect(stats.openStreams).toBe(0), 5_000);
    // The server closed every one of them: a client that reads again gets what was sent, then the end.
    for (const socket of sockets) socket.resume();
    await Promise.all(closed);
  });
});

describe('bodies that never end', () => {
  it('answers 413 past maxBodyBytes and closes the connection at once, without reading the rest', async () => {
    const maxBodyBytes = 64 * 1024;
    const realtime = createRealtimeServer({ maxBodyBytes, onError: () => {} });
    onCleanup(() => realtime.close());
    let bytesRead = 0;
    const { url } = await listen((req, res) => {
      req.socket.once('close', () => (bytesRead = req.socket.bytesRead));
      void realtime.handler(req, res);
    });
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    onCleanup(async () => void socket.destroy());
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * MiB}\r\n\r\n{"topics": ["`);
    // Send until the server has closed the connection (or 64 MiB went, which would be the bug).
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    let open = true;
    void closed.then(() => (open = false));
    const started = Date.now();
    while (open && sent < 64 * MiB) {
      if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed, sleep(50)]);
      sent += chunk.length;
    }
    await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    await eventually(() => bytesRead, (n) => expect(n).toBeGreaterThan(0));
    // The limit, plus what one read of the socket may bring beyond it.
    expect(bytesRead).toBeLessThan(maxBodyBytes + 256 * 1024);
  });
});
