// An HTTP/2 (TLS) front for the demo server, for the rows of the benchmark that need the
// browser without its 6-connections-per-host limit.
//
// How: `/events` is answered natively over HTTP/2 by a second ssemux/server instance
// (createRealtimeServer, through node:http2's compatibility API) that reads the demo server's
// own store. Everything the demo server publishes (bursts, POST /publish) lands in that store
// and so reaches the HTTP/2 streams too, with the same SSE wire format (same code) as the demo
// server's `/events?stream=` and `/events?topic=`. Every other request (the bench pages,
// /dist/*, /publish, /publish/burst, /stats) is proxied to the demo server over HTTP/1.1, so
// the same app answers them. Proxying the stream itself was the alternative; it would have
// put a second copy of every event through this process, which is the bottleneck already.
//
// The certificate is self-signed, made at start with `openssl` in a temporary directory that is
// removed at once; Chromium must run with `--ignore-certificate-errors`.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRealtimeServer } from 'ssemux/server';
import { plainTopics } from '../../demo-server/events-route.js';

/** A throwaway self-signed certificate for 127.0.0.1 / localhost, valid one day. */
function selfSignedCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'ssemux-bench-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Headers that belong to one HTTP/1.1 hop or are HTTP/2 pseudo-headers: never forwarded. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'host', 'http2-settings']);
const forwardable = (headers) => Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':') && !HOP_HEADERS.has(name)));

/**
 * @param {{ demo: { url: string, port: number, store: import('ssemux/server').EventStore } }} options
 * @returns {Promise<{ url: string, stats: () => import('ssemux/server').RealtimeServerStats, close: () => Promise<void> }>}
 */
export async function startHttp2Front({ demo }) {
  // The demo server's options for its stream (default topic 'main', `?stream=<name>`), on its store.
  const realtime = createRealtimeServer({
    store: demo.store,
    defaultTopic: 'main',
    defaultTopics: (req) => plainTopics(req, 'main'),
    heartbeatMs: 15_000,
    retryMs: 1_000,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const proxy = (req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: demo.port, method: req.method, path: req.url, headers: { ...forwardable(req.headers), host: `127.0.0.1:${demo.port}` }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };

  const server = http2.createSecureServer({ ...selfSignedCertificate(), allowHTTP1: false }, (req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/events') return void realtime.handler(req, res);
    proxy(req, res);
  });
  // Sessions (one per browser context) are destroyed on close, or server.close() would wait for them.
  const sessions = new Set();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('sessionError', () => {});
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    url: `https://127.0.0.1:${port}`,
    stats: () => realtime.stats(),
    async close() {
      await realtime.close(); // ends the streams; the demo server's store stays open
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
