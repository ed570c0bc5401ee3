import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';

const encoder = new TextEncoder();

/** One request as the mock server saw it, with a hand on its response body. */
export interface Seen {
  url: URL;
  method: string;
  /** The request body as text (empty for GET). */
  body: Promise<string>;
  headers: Headers;
  signal: AbortSignal;
  /** Answers with a 200 text/event-stream whose body stays open until end() or drop(). */
  stream(initial?: string): Response;
  send(text: string): void;
  /** Ends the body normally. */
  end(): void;
  /** Breaks the body mid-stream (a network drop). */
  drop(): void;
  /** True while a streamed body is neither ended, dropped nor aborted. */
  readonly live: boolean;
}

/** How the mock answers request number `index`. */
export type Script = (req: Seen, index: number) => Response | Promise<Response>;

/**
 * An msw server for SSE endpoints matching `pattern`, whose tests script each response and hold
 * its body: `serve(script)` installs the script, `requests` lists what arrived (clear it with
 * `requests.length = 0`).
 */
export function createSseMock(pattern: string) {
  const server = setupServer();
  const requests: Seen[] = [];
  function serve(script: Script = (req) => req.stream()): void {
    server.use(
      http.all(pattern, ({ request }) => {
        let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
        let finished = false;
        let streamed = false;
        const seen: Seen = {
          url: new URL(request.url),
          method: request.method,
          body: request.clone().text(),
          headers: request.headers,
          signal: request.signal,
          get live() {
            return streamed && !finished;
          },
          stream(initial) {
            streamed = true;
            const body = new ReadableStream<Uint8Array>({
              start(c) {
                controller = c;
                if (initial) c.enqueue(encoder.encode(initial));
              },
            });
            return new HttpResponse(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
          },
          send(text) {
            if (!finished) controller?.enqueue(encoder.encode(text));
          },
          end() {
            if (finished) return;
            finished = true;
            controller?.close();
          },
          drop() {
            if (finished) return;
            finished = true;
            controller?.error(new TypeError('connection reset'));
          },
        };
        request.signal.addEventListener('abort', () => seen.drop(), { once: true });
        requests.push(seen);
        return script(seen, requests.length - 1);
      }),
    );
  }
  return { server, requests, serve };
}
