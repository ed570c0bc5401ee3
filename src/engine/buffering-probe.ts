import { classifyResponse } from './response-policy.js';
import { loadTransport } from './transports/select-transport.js';
import type { TransportRequest } from './transports/transport.js';

/**
 * A stream got no response at all: one long-poll request of the same shape finds out why. If a
 * complete response gets through while the stream still shows nothing, something holds
 * responses until they end (a gateway that buffers whole responses, headers included):
 * `proven` is called, the evidence to move to long-poll. If the long-poll shows nothing either,
 * the server is slow or down, and nothing is concluded. Returns the function that ends the probe.
 */
export function probeBuffering(request: TransportRequest, proven: () => void): () => void {
  const abort = new AbortController();
  const done = () => abort.abort();
  void loadTransport('long-poll').then((longPoll) =>
    longPoll(
      { ...request, signal: abort.signal },
      {
        response: (code, header) => {
          const ok = classifyResponse(code, header('content-type')).action === 'open';
          if (!ok) done();
          return ok;
        },
        text() {},
        event() {},
        end() {
          if (abort.signal.aborted) return;
          done();
          proven();
        },
        error: done,
      },
    ),
  );
  return done;
}
