// Shared by the ssemux/server tests: a realtime server on a real node:http server of 127.0.0.1,
// closed after each test.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from 'ssemux/server';
import { abortAll } from '../../conformance/sse-client.js';
import type { Identity } from 'ssemux/server';

const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  abortAll();
  for (const close of closers.splice(0).reverse()) await close();
});

/** Runs `close` after the current test (last registered, first run). */
export function onCleanup(close: () => Promise<void>): void {
  closers.push(close);
}

export interface Started<I extends Identity> {
  url: string;
  realtime: RealtimeServer<I>;
  server: http.Server;
}

/** Serves `listener` on a free port of 127.0.0.1 until the test ends. */
export async function listen(listener: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A realtime server behind `http.createServer(handler)`; `/events` is any path. */
export async function startRealtime<I extends Identity = Identity>(options: RealtimeServerOptions<I> = {}): Promise<Started<I>> {
  const realtime = createRealtimeServer<I>({ heartbeatMs: 5_000, longPollMs: 2_000, onError: () => {}, ...options });
  const { url, server } = await listen(realtime.handler);
  onCleanup(() => realtime.close());
  return { url: `${url}/events`, realtime, server };
}

export { eventually } from '../../support/eventually.js';
