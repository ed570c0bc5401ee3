// @ts-check
/**
 * A reverse proxy that buffers whole responses, the way misconfigured nginx/CDN setups break
 * SSE: it forwards each request to `target` and sends nothing back until the upstream response
 * has ended, then sends it all at once with the upstream status and headers.
 */
import http from 'node:http';

/** Hop-by-hop headers (and the framing ones we recompute) that must not be copied through. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'te',
  'trailer',
]);

/** @param {http.IncomingHttpHeaders} headers */
function endToEnd(headers) {
  /** @type {http.OutgoingHttpHeaders} */
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * @param {{ target: string, port?: number }} options
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function createBufferingProxy({ target, port = 0 }) {
  const upstream = new URL(target);
  /** @type {Set<http.ClientRequest>} */
  const inFlight = new Set();
  const agent = new http.Agent({ keepAlive: false });

  const server = http.createServer((req, res) => {
    const headers = endToEnd(req.headers);
    headers.host = upstream.host;
    if (req.headers['content-length']) headers['content-length'] = req.headers['content-length'];
    if (req.headers['transfer-encoding']) headers['transfer-encoding'] = req.headers['transfer-encoding'];

    const forward = http.request(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        agent,
        method: req.method,
        path: req.url,
        headers,
      },
      (answer) => {
        /** @type {Buffer[]} */
        const chunks = [];
        answer.on('data', (chunk) => chunks.push(chunk));
        answer.on('end', () => {
          inFlight.delete(forward);
          const body = Buffer.concat(chunks);
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, {
            ...endToEnd(answer.headers),
            'content-length': body.length,
          });
          res.end(body);
        });
        // The upstream cut the stream mid-body: like a real proxy, fail rather than send half.
        answer.on('error', () => {});
        answer.on('close', () => {
          if (!answer.complete) res.destroy();
        });
      },
    );
    inFlight.add(forward);
    forward.on('error', () => {
      inFlight.delete(forward);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
      else res.destroy();
    });
    // The client went away: stop waiting on an upstream that may never end (an SSE stream).
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy();
      inFlight.delete(forward);
    });
    req.pipe(forward);
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  const actualPort = /** @type {import('node:net').AddressInfo} */ (server.address()).port;

  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise((resolve) => {
        for (const request of inFlight) request.destroy();
        inFlight.clear();
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
