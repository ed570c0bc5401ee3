import { createRealtimeClient, RealtimeError, type RealtimeClient, type RealtimeClientOptions, type SharingMode, type StatusError, type TransportKind } from '../index.js';
import { baseUrl } from '../protocol/base-url.js';

/** The content type of an event stream, as @microsoft/fetch-event-source exports it. */
export const EventStreamContentType = 'text/event-stream';

/** The wait before a new request after an error, when `onerror` names none (the original's default). */
const DEFAULT_RETRY_MS = 1000;

/** One event, as `onmessage` receives it. */
export interface EventSourceMessage {
  /**
   * The stream's last event id when the event fired. The original gives the event's own `id:`
   * field and `''` when the event has none; the two are equal on servers that put an id on every
   * event (which resuming needs anyway).
   */
  id: string;
  /** The event's name; `''` for an event without one (as the original: the `event:` field, or empty). */
  event: string;
  /** The data, lines joined with LF. */
  data: string;
  /**
   * Always undefined: the shared stream applies `retry:` itself (never under 1 s after a clean
   * end) and does not hand the field out.
   */
  retry?: number;
}

/**
 * The options of @microsoft/fetch-event-source 2.0.1's `fetchEventSource`, and what ssemux adds
 * (`workerUrl`, `sharing`, `transport`). Of the other `RequestInit` fields, `credentials:
 * 'include'` sends cookies cross-origin; `mode`, `cache`, `redirect`, `referrer`,
 * `referrerPolicy`, `integrity`, `keepalive` and `priority` are ignored (the client makes the
 * requests, in a SharedWorker or a leader tab as often as not).
 */
export interface FetchEventSourceInit extends RequestInit {
  /**
   * Request headers. `Accept` is always `text/event-stream`; a `Last-Event-ID` given here is the
   * point the first request resumes from. Tabs with other headers never share a stream.
   */
  headers?: Record<string, string>;
  /**
   * Called when a response arrives, before any of its events, with a `Response` made for it: it
   * has the `status`, `ok`, `statusText` and `url` of the request, and, for a 200 event stream,
   * `content-type: text/event-stream`. It has no body, and no other header: the response itself
   * may have come to a SharedWorker or another tab. Throwing (or rejecting) refuses the response
   * and goes to `onerror`. The default refuses any content type but `text/event-stream` (so any
   * status but 200). A refused 200 stream is dropped and requested anew after `onerror`'s
   * interval, resuming after the last event handed to `onmessage`. Accepting a failed response
   * is accepting its (empty) body, which ends: `onclose` is called, as by the original.
   */
  onopen?: (response: Response) => void | Promise<void>;
  /** Called with every event of the stream. Throwing goes to `onerror`, and the stream goes on. */
  onmessage?: (ev: EventSourceMessage) => void;
  /**
   * Called when the server ends the stream cleanly. Returning ends `fetchEventSource` (its
   * promise resolves, nothing reconnects); throwing goes to `onerror`, and the stream reconnects
   * with `Last-Event-ID`.
   */
  onclose?: () => void;
  /**
   * Called with every error: a refused response, a failed request, a broken stream, or what
   * `onopen`, `onmessage` or `onclose` threw. Throwing stops everything (the promise rejects with
   * what it threw). Returning retries: after a response that closes the stream for good (204,
   * 4xx but 401, a wrong content type) or one `onopen` refused, after the interval it returns
   * (ms; default 1000). After a failure the client retries by itself (a network error, 5xx, 408,
   * 429, 401, a stream silent for 45 s, a clean end whose `onclose` threw), it reconnects with its
   * own backoff (1 s, doubling, with jitter, up to 30 s; never under 1 s after a clean end) and
   * the interval returned is not used: one wait per shared stream, whatever each tab's `onerror`
   * says.
   */
  onerror?: (err: any) => number | null | undefined | void;
  /**
   * Without it (the default), once the tab is hidden the callbacks wait until it is visible again,
   * then run in order: the original closes its request while hidden and resumes with
   * `Last-Event-ID` when visible, which the app sees the same way. The shared stream stays open
   * (other tabs may use it), and what arrives while hidden is held in memory.
   */
  openWhenHidden?: boolean;
  /**
   * Only the platform's `fetch` (or none): the requests are made by the client, often in a
   * SharedWorker, where a function of this tab cannot run. Another one rejects with
   * `invalid-options`.
   */
  fetch?: typeof fetch;
  /** Stable same-origin URL of `ssemux/worker`, to share a GET stream through a SharedWorker. */
  workerUrl?: string | URL;
  /** How tabs share a GET stream (other requests run in this tab, `'none'`). @default 'auto' */
  sharing?: SharingMode;
  /** How the bytes travel. @default 'auto' */
  transport?: TransportKind;
}

/** The request, as the client can make it. */
interface Prepared {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  headers: Record<string, string>;
  resume: string;
  withCredentials: boolean;
}

/** A callback waiting its turn, of the client `gen` it came from. */
interface Task {
  gen: number;
  message?: boolean;
  run(): unknown;
}

/**
 * @microsoft/fetch-event-source's `fetchEventSource`, over ssemux: a `GET` stream is shared by
 * every tab of the origin (one upstream for all), any other request runs in this tab
 * (`sharing: 'none'`): `POST` with a string or `URLSearchParams` body. Other methods and
 * bodies reject with `invalid-options` (the client sends GET and POST, with text). The promise
 * resolves when the stream ends cleanly and `onclose` returns, or when `signal` aborts (also an
 * already aborted one); it rejects with what `onerror` throws.
 *
 * Where the original's semantics cannot hold over a shared stream, the closest: `onopen` gets a
 * `Response` made for it (no body, only the content type), `onerror`'s interval applies only
 * where nothing else retries, `onmessage` is called for events (blocks with data), not for every
 * blank line as the original does, and `retry` is never set. See {@link FetchEventSourceInit}.
 */
export function fetchEventSource(input: RequestInfo | URL, init: FetchEventSourceInit): Promise<void> {
  const { signal, onopen = defaultOnOpen, onmessage, onclose, onerror, openWhenHidden, fetch: ownFetch, workerUrl, sharing, transport } = init;
  return new Promise<void>((resolve, reject) => {
    let request: Prepared;
    let client: RealtimeClient | undefined;
    let done = false;
    /** Bumped when a client is given up: what it had queued is not run. */
    let gen = 0;
    let tasks: Task[] = [];
    let running = false;
    let hidden = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    /** The id a request resumes from: of the last event handed to `onmessage`, or the one it resumed from. */
    let handed = '';
    const doc = typeof document === 'undefined' ? undefined : document;

    // Like the original, a change of visibility counts, not the state it started in.
    const onVisibility = () => {
      hidden = doc!.hidden;
      void drain();
    };
    const aborted = () => finish();

    function finish(error?: unknown, failed = false): void {
      if (done) return;
      done = true;
      tasks = [];
      clearTimeout(retryTimer);
      client?.close();
      signal?.removeEventListener('abort', aborted);
      doc?.removeEventListener('visibilitychange', onVisibility);
      if (failed) reject(error);
      else resolve();
    }

    function enqueue(run: () => unknown, message?: boolean): void {
      tasks.push({ gen, run, message });
      void drain();
    }

    // One callback at a time, in the stream's order: an async onopen holds back the events after
    // it, as the original reads the body only once onopen has resolved.
    async function drain(): Promise<void> {
      if (running) return;
      running = true;
      while (!done && !hidden && tasks.length > 0) {
        const task = tasks.shift()!;
        try {
          if (task.gen === gen) await task.run();
        } catch (error) {
          // Every callback's error is handled in its task: this is a bug of ours, not to be lost.
          finish(error, true);
        }
      }
      running = false;
    }

    /** `onerror` decides; `restart`: nothing else will request again (the client closed, or onopen refused its stream). */
    function failed(error: unknown, restart: boolean): void {
      let interval: number | null | undefined | void;
      try {
        interval = onerror?.(error);
      } catch (thrown) {
        return finish(thrown, true);
      }
      if (!restart || done) return;
      // Events of the refused stream still waiting are not handed over: resume before them.
      const waiting = tasks.some((t) => t.gen === gen && t.message);
      const from = waiting ? handed : client!.status.lastEventId || handed;
      gen++;
      client!.close();
      retryTimer = setTimeout(() => start(from), interval ?? DEFAULT_RETRY_MS);
    }

    async function opened(response: Response, restart: boolean): Promise<boolean> {
      try {
        await onopen(response);
        return true;
      } catch (error) {
        failed(error, restart);
        return false;
      }
    }

    function ended(restart: boolean): void {
      try {
        onclose?.();
      } catch (error) {
        return failed(error, restart);
      }
      finish();
    }

    /** A response other than a 200 event stream (or a failure without one): `closed`, the client gave up. */
    async function answered(error: StatusError, closed: boolean): Promise<void> {
      if (error.status === undefined) return failed(new RealtimeError(error.code, error.message), closed);
      // A 200 of another content type (a login page) must not look like an event stream to onopen.
      if (await opened(responseOf(request.url, error.status, error.code !== 'content-type'), closed)) ended(closed);
    }

    function start(from: string): void {
      if (done) return;
      handed = from;
      const headers = { ...request.headers };
      // The engine writes this very name once it has an id of its own: one header, never two. A
      // header's value is bytes: the id's UTF-8, as the engine sends it.
      if (from) headers['Last-Event-ID'] = unescape(encodeURIComponent(from));
      const options: RealtimeClientOptions = { url: request.url, parse: 'text', withCredentials: request.withCredentials, sharing: request.method === 'GET' ? (sharing ?? 'auto') : 'none' };
      if (Object.keys(headers).length > 0) options.headers = headers;
      if (request.method === 'POST') options.method = 'POST';
      if (request.body !== undefined) options.body = request.body;
      if (workerUrl !== undefined) options.workerUrl = workerUrl;
      if (transport !== undefined) options.transport = transport;
      let c: RealtimeClient;
      try {
        c = client = createRealtimeClient(options);
      } catch (error) {
        return finish(error, true);
      }
      const mine = gen;
      let open = false;
      c.on('*', (m) =>
        enqueue(() => {
          handed = m.lastEventId;
          try {
            onmessage?.({ id: m.lastEventId, event: m.type === 'message' ? '' : m.type, data: m.text, retry: undefined });
          } catch (error) {
            failed(error, false);
          }
        }, true),
      );
      c.onStatus(({ state, reason, error }) => {
        if (done || mine !== gen) return;
        if (state === 'open') {
          if (!open) enqueue(() => opened(responseOf(request.url, 200), true));
          open = true;
          return;
        }
        open = false;
        // The server ended the stream cleanly; an attempt failed (retried); an answer closed it for good.
        if (reason === 'ended') enqueue(() => ended(false));
        else if (error && (reason === 'failed' || reason === 'refused')) enqueue(() => answered(error, state === 'closed'));
      });
    }

    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', aborted);
    if (!openWhenHidden) doc?.addEventListener('visibilitychange', onVisibility);
    if (ownFetch && ownFetch !== globalThis.fetch) return finish(invalid('the fetch option cannot be used: the client makes the requests, in a SharedWorker or another tab as often as not'), true);
    prepare(input, init).then(
      (prepared) => {
        request = prepared;
        start(prepared.resume);
      },
      (error: unknown) => finish(error, true),
    );
  });
}

/** The text whose UTF-8 bytes `value`'s characters are; `value` itself when they are not UTF-8. */
function idOf(value: string): string {
  try {
    return decodeURIComponent(escape(value));
  } catch {
    return value;
  }
}

/** The original's default `onopen`: anything but an event stream is refused. */
function defaultOnOpen(response: Response): void {
  const contentType = response.headers.get('content-type');
  if (!contentType?.startsWith(EventStreamContentType)) throw new Error(`Expected content-type to be ${EventStreamContentType}, Actual: ${contentType}`);
}

/** The `Response` `onopen` sees: what the client knows of the real one (`stream`: an event stream). */
function responseOf(url: string, status: number, stream = true): Response {
  const ok = status === 200;
  const response = new Response(null, { status, statusText: ok ? 'OK' : '', headers: ok && stream ? { 'content-type': EventStreamContentType } : {} });
  return Object.defineProperty(response, 'url', { value: url });
}

/** The URL the response will show: relative to the document, where there is one. */
function absolute(url: string): string {
  try {
    return new URL(url, baseUrl()).href;
  } catch {
    return url;
  }
}

function invalid(message: string): RealtimeError {
  return new RealtimeError('invalid-options', `fetchEventSource: ${message}`);
}

/** The request as the client can make it, or an `invalid-options` error saying why not. */
async function prepare(input: RequestInfo | URL, init: FetchEventSourceInit): Promise<Prepared> {
  const isRequest = typeof Request !== 'undefined' && input instanceof Request;
  const headers = new Headers();
  for (const given of [isRequest ? input.headers : undefined, new Headers(init.headers)]) given?.forEach((value, name) => headers.set(name, value));
  const method = (init.method ?? (isRequest ? input.method : 'GET')).toUpperCase();
  let body: unknown = init.body ?? (isRequest && input.body ? await input.clone().text() : undefined);
  if (body instanceof URLSearchParams) {
    // What fetch sends with such a body.
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    body = body.toString();
  }
  if (method !== 'GET' && method !== 'POST') throw invalid(`method ${method}: the client sends GET (shared) and POST (in this tab)`);
  if (body !== undefined && body !== null && (typeof body !== 'string' || method === 'GET')) throw invalid(`body: a POST takes a string or URLSearchParams body`);
  // A header's value is bytes: the id they spell in UTF-8, which the client sends back as those bytes.
  const resume = idOf(headers.get('last-event-id') ?? '');
  // The client sends both itself.
  headers.delete('last-event-id');
  headers.delete('accept');
  const plain: Record<string, string> = {};
  headers.forEach((value, name) => (plain[name] = value));
  const credentials = init.credentials ?? (isRequest ? input.credentials : undefined);
  return {
    url: isRequest ? input.url : absolute(String(input)),
    method,
    ...(typeof body === 'string' && { body }),
    headers: plain,
    resume,
    withCredentials: credentials === 'include',
  };
}
