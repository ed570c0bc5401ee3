import type { WireEvent } from '../protocol/types.js';

/** A first tab's own stream, read while its SharedWorker starts; see {@link openEarlyStream}. */
export interface EarlyStream {
  /** Reads the events of `type` too (a listener added since it opened). */
  listen(type: string): void;
  /** Closes it: nothing it receives from now on is handed on. */
  close(): void;
}

/** What an early stream hands on. */
export interface EarlyStreamHandlers {
  /** Each event of a type listened to, in the stream's order. */
  event(event: WireEvent): void;
  /** Once, when the stream fails: its tab hands over to the worker at once, which retries as it should. */
  failed(): void;
}

/**
 * Opens the platform's EventSource on `url`, reading the events of `types`: the first tab of an
 * origin gets its first events as soon as a plain EventSource would, instead of after its
 * SharedWorker starts (20–35 ms, before the worker can even ask for the stream). The client
 * hands the stream over to the worker after the last event it got (see the README's "The first
 * tab"). The platform's own reconnection is never used: the first error hands over, and the
 * engine in the worker does the retrying.
 */
export function openEarlyStream(url: string, withCredentials: boolean, types: Iterable<string>, on: EarlyStreamHandlers): EarlyStream {
  const source = new EventSource(url, { withCredentials });
  let closed = false;
  // The platform's own open and error (plain Events, no data) reach a listener of a type so named.
  const read = (event: MessageEvent<string>) => closed || typeof event.data !== 'string' || on.event({ type: event.type, data: event.data, id: event.lastEventId });
  // The same listener added twice for a type is added once.
  const listen = (type: string) => source.addEventListener(type, read as EventListener);
  const close = () => {
    closed = true;
    source.close();
  };
  for (const type of types) listen(type);
  source.onerror = () => {
    if (closed) return;
    close();
    on.failed();
  };
  return { listen, close };
}
