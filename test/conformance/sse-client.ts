// A small, spec-true SSE reader for the server tests: fetch for the HTTP part, the library's own
// WHATWG parser (src/engine/parser.ts, free of browser APIs) for the body. It keeps the raw text
// too, since the protocol also says which bytes come first.
import { createParser } from '../../src/engine/parser.js';

/** A dispatched event as the parser reports it; `id` is the last event id at dispatch. */
export interface SseEvent {
  type: string;
  data: string;
  id: string;
}

export interface SseResponse {
  status: number;
  headers: Headers;
  /** The body as received so far. */
  readonly text: string;
  /** Every dispatched event, control events included. */
  readonly events: SseEvent[];
  /** The last event id, moved by events and id-only blocks alike. */
  readonly lastEventId: string;
  readonly retries: number[];
  /** 'open' while reading; 'ended' on a clean end of body; 'failed' when the connection broke. */
  readonly state: 'open' | 'ended' | 'failed';
  /** Resolves with the events once `check` passes on them; rejects after `ms`. */
  until(check: (events: SseEvent[]) => boolean, ms?: number): Promise<SseEvent[]>;
  /** Resolves with the final state; rejects if the body is still open after `ms`. */
  settled(ms?: number): Promise<'ended' | 'failed'>;
  abort(): void;
}

const open = new Set<AbortController>();

/** Aborts every response still open; call it in afterEach. */
export function abortAll(): void {
  for (const controller of open) controller.abort();
  open.clear();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Opens `url` and reads its body as SSE while it arrives. */
export async function openSse(url: string, init: RequestInit = {}): Promise<SseResponse> {
  const controller = new AbortController();
  open.add(controller);
  const res = await fetch(url, { ...init, signal: controller.signal });
  let text = '';
  let state: SseResponse['state'] = 'open';
  let lastEventId = '';
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const parser = createParser({
    onEvent: (event) => events.push({ type: event.type, data: event.data, id: event.id }),
    onLastEventId: (id) => (lastEventId = id),
    onRetry: (ms) => retries.push(ms),
  });
  const finished = (async () => {
    if (!res.body) return void (state = 'ended');
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        text += chunk;
        parser.feed(chunk);
      }
      state = 'ended';
    } catch {
      state = 'failed';
    } finally {
      open.delete(controller);
    }
  })();

  const within = <T>(promise: Promise<T>, ms: number, what: () => string) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      promise.finally(() => clearTimeout(timer)),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms))),
    ]);
  };

  return {
    status: res.status,
    headers: res.headers,
    get text() {
      return text;
    },
    events,
    get lastEventId() {
      return lastEventId;
    },
    retries,
    get state() {
      return state;
    },
    async until(check, ms = 3_000) {
      const deadline = Date.now() + ms;
      while (!check(events)) {
        if (Date.now() > deadline) {
          throw new Error(`condition not met after ${ms} ms; events: ${JSON.stringify(events).slice(0, 2000)}`);
        }
        await sleep(5);
      }
      return events;
    },
    async settled(ms = 3_000) {
      await within(finished, ms, () => `body still open after ${ms} ms`);
      return state as 'ended' | 'failed';
    },
    abort() {
      controller.abort();
    },
  };
}

/** Events that are not control events (`ssemux:…`). */
export const dataEvents = (events: SseEvent[]) => events.filter((event) => !event.type.startsWith('ssemux:'));

/** Splits the data of a topic connection's event: the first line is the topic. */
export function splitTopic(event: SseEvent): { topic: string; data: string } {
  const lf = event.data.indexOf('\n');
  return lf === -1 ? { topic: event.data, data: '' } : { topic: event.data.slice(0, lf), data: event.data.slice(lf + 1) };
}
