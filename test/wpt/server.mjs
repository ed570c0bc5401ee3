// @ts-check
// The server resources the eventsource suite needs (test/wpt/README.md), written for Node: one
// handler served on two ports of 127.0.0.1, so that the second is a cross-origin server of the
// first (same host, so the same site and the same cookies, as the web-platform-tests' `www2.`
// host is for its cookie tests). Each resource does what the suite's cases expect of it; the
// names follow the web-platform-tests' resources so that a case reads like the subtest it checks.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.map': 'application/json' };

/** Static trees: the built package, the polyfill the suite compares with, the runner's pages. */
const STATIC = [
  { prefix: '/dist/', dir: join(root, 'dist') },
  { prefix: '/vendor/event-source-polyfill/', dir: join(root, 'node_modules/event-source-polyfill/src') },
  { prefix: '/eventsource/', dir: join(here, 'pages') },
];

/**
 * The query as bytes: `%XX` escapes decode to raw bytes (a BOM, a NUL, half a character), `+` to a
 * space, as the web-platform-tests' server reads it. Repeated names keep the first value.
 * @param {string} search
 * @returns {Map<string, Buffer>}
 */
function queryBytes(search) {
  const out = new Map();
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decodeBytes(eq < 0 ? pair : pair.slice(0, eq)).toString('latin1');
    if (!out.has(name)) out.set(name, decodeBytes(eq < 0 ? '' : pair.slice(eq + 1)));
  }
  return out;
}

/** @param {string} text */
function decodeBytes(text) {
  const bytes = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(c ?? '', 'utf8'));
  }
  return Buffer.from(bytes);
}

/** @param {string | undefined} header */
function cookies(header) {
  /** @type {Map<string, string>} */
  const out = new Map();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the two servers. `stash` holds what the preflight resource remembered between requests.
 * @returns {Promise<{ origin: string, crossOrigin: string, requests: Map<string, string[]>, close(): Promise<void> }>}
 */
export async function startWptServer() {
  /** @type {Map<string, string>} */
  const stash = new Map();
  /** What the `record` and `whoami` resources saw, by token (see them). */
  /** @type {Map<string, string[]>} */
  const requests = new Map();
  /** @type {import('node:http').Server[]} */
  const servers = [];
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  async function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = queryBytes(url.search);
    const str = (/** @type {string} */ name, fallback = '') => q.get(name)?.toString('latin1') ?? fallback;
    const origin = req.headers.origin;
    // Node gives header values as Latin-1 text: one character per byte, so this is the raw value.
    const lastEventIdHeader = req.headers['last-event-id'];
    const lastEventId = typeof lastEventIdHeader === 'string' ? Buffer.from(lastEventIdHeader, 'latin1') : undefined;
    const jar = cookies(req.headers.cookie);
    /** @type {Record<string, string | string[]>} */
    const headers = {};
    const setCookie = (/** @type {string} */ cookie) => {
      const list = /** @type {string[]} */ (headers['set-cookie'] ??= []);
      list.push(cookie);
    };
    const send = (/** @type {number} */ status, /** @type {string | Buffer} */ body = '', /** @type {string | undefined} */ statusText = undefined) => {
      res.writeHead(status, statusText, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const sse = () => (headers['content-type'] = 'text/event-stream');

    const name = url.pathname.replace(/^\/eventsource\/resources\//, '').replace(/^\/common\//, 'common/');
    switch (name) {
      case 'message': {
        // `message` (default `data: data`) and then a blank line unless `newline=none`, then LF.
        headers['content-type'] = str('mime', 'text/event-stream');
        const message = q.get('message') ?? Buffer.from('data: data');
        const newline = str('newline') === 'none' ? '' : '\n\n';
        const sleepMs = Number(str('sleep', '0'));
        if (sleepMs) await sleep(sleepMs);
        return send(200, Buffer.concat([message, Buffer.from(`${newline}\n`)]));
      }
      case 'message2': {
        // One message written in pieces, with fields split across network writes, then a long wait.
        sse();
        res.writeHead(200, headers);
        const pieces = ['data:msg', '\n', 'data: msg', '\n\n', ':', '\n', 'falsefield:msg', '\n\n', 'falsefield:msg', '\n', 'Data:data', '\n\n', 'data', '\n\n', 'data:end', '\n\n'];
        for (const piece of pieces) {
          if (res.destroyed) return;
          res.write(piece);
          await sleep(5);
        }
        await sleep(2000);
        return res.end();
      }
      case 'accept':
        sse();
        return send(200, `data: ${req.headers.accept ?? ''}\n\n`);
      case 'cache-control':
        sse();
        return send(200, `data: ${req.headers['cache-control'] ?? ''}\n\n`);
      case 'last-event-id': {
        // With Last-Event-ID, its bytes as the data; without, `id: <idvalue or …>` and hello.
        sse();
        if (lastEventId && lastEventId.length > 0) return send(200, Buffer.concat([Buffer.from('data: '), lastEventId, Buffer.from('\n\n')]));
        const id = q.get('idvalue') ?? Buffer.from('…');
        return send(200, Buffer.concat([Buffer.from('id: '), id, Buffer.from('\nretry: 200\ndata: hello\n\n')]));
      }
      case 'last-event-id2': {
        sse();
        const bodies = {
          1: 'id: 1\ndata: 1\n\ndata:2\n\n',
          2: 'id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n',
          3: 'id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n',
        };
        return send(200, bodies[/** @type {1 | 2 | 3} */ (Number(str('type', '1')))] ?? 'data: invalid_test\n\n');
      }
      case 'status-error': {
        sse();
        const status = Number(str('status', '404'));
        return send(status, status === 204 || status === 205 ? '' : 'data: data\n\n', 'HAHAHAHA');
      }
      case 'status-reconnect':
        return statusReconnect();
      case 'reconnect-fail': {
        // First 200 with `opened`, then 200 with `reconnected`, then 204: state in a cookie.
        const cookie = `recon_fail_${str('id')}`;
        sse();
        const state = jar.get(cookie);
        if (state === 'opened') {
          setCookie(`${cookie}=reconnected; Path=/`);
          return send(200, 'data: reconnected\n\n');
        }
        if (state === 'reconnected') {
          setCookie(`${cookie}=; Path=/; Max-Age=0`);
          return send(204);
        }
        setCookie(`${cookie}=opened; Path=/`);
        return send(200, 'retry: 2\ndata: opened\n\n');
      }
      case 'cors': {
        headers['access-control-allow-origin'] = q.has('origin') ? str('origin') : (origin ?? '');
        headers['access-control-allow-credentials'] = str('credentials', 'true');
        const run = str('run');
        if (run === 'message') {
          sse();
          return send(200, 'data: data\n\n\n');
        }
        if (run === 'cache-control') {
          sse();
          return send(200, `data: ${req.headers['cache-control'] ?? ''}\n\n`);
        }
        if (run === 'status-reconnect') return statusReconnect();
        if (run === 'redirect') {
          headers.location = str('location');
          return send(302);
        }
        return send(200);
      }
      case 'cors-cookie': {
        const ident = str('ident', 'test');
        const cookie = jar.has(ident) ? 'COOKIE' : 'NO_COOKIE';
        const allowOrigin = q.has('origin') ? str('origin') : (origin ?? '');
        if (allowOrigin !== 'none') headers['access-control-allow-origin'] = allowOrigin;
        const credentials = str('credentials', 'true');
        if (credentials !== 'none') headers['access-control-allow-credentials'] = credentials;
        const id = lastEventId?.toString('latin1') ?? '';
        if (id === '') {
          sse();
          setCookie(`${ident}=COOKIE; Path=/`);
          return send(200, `id: 1\nretry: 200\ndata: first ${cookie}\n\n`);
        }
        if (id === '1') {
          sse();
          setCookie(`${ident}=COOKIE; Path=/; Expires=Fri, 27 Jul 2001 00:00:00 GMT`);
          return send(200, `id: 2\ndata: second ${cookie}\n\n`);
        }
        headers['content-type'] = 'stop';
        return send(200, `data: ${id}${cookie}\n\n`);
      }
      case 'cors-unsafe-last-event-id':
        return unsafeLastEventId();
      case 'record': {
        // Not a suite resource (the ids test's): records the raw bytes (hex) of every request's
        // Last-Event-ID under `token` (`query <hex>` for a `lastEventId` query parameter), sends
        // `id: <id>` on the first, plain events on the second, and 204 on the third.
        const token = str('token');
        const seen = requests.get(token) ?? [];
        seen.push(lastEventId ? lastEventId.toString('hex') : q.has('lastEventId') ? `query ${q.get('lastEventId')?.toString('hex')}` : '');
        requests.set(token, seen);
        sse();
        headers['access-control-allow-origin'] = origin ?? '*';
        const id = q.get('id') ?? Buffer.from('');
        const body = seen.length === 1 ? Buffer.concat([Buffer.from('retry: 100\nid: '), id, Buffer.from('\ndata: first\n\n')]) : Buffer.from(`data: request ${seen.length}\n\n`);
        if (seen.length >= 3) return send(204);
        return send(200, body);
      }
      case 'whoami': {
        // Not a suite resource (the identity test's): every 100 ms, the `jti` of the bearer token
        // this connection was opened with; each connection counted under `whoami`.
        const bearer = /^Bearer [\w-]+\.([\w-]+)\./.exec(req.headers.authorization ?? '');
        const claims = bearer ? JSON.parse(Buffer.from(bearer[1] ?? '', 'base64url').toString('utf8')) : {};
        const seen = requests.get('whoami') ?? [];
        seen.push(String(claims.jti));
        requests.set('whoami', seen);
        sse();
        res.writeHead(200, headers);
        res.write(': open\n\n');
        const timer = setInterval(() => res.write(`data: ${claims.jti}\n\n`), 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'common/redirect': {
        headers.location = str('location');
        return send(Number(str('status', '302')));
      }
      default:
        return serveStatic(url.pathname, res);
    }

    function statusReconnect() {
      // A first answer of `status` (with `retry: 2`, and `data: ok` if `ok_first`), then a 200 with
      // `data: data` once the cookie set by the first shows it came.
      const status = str('status', '204');
      const cookie = `request${str('id', status)}`;
      sse();
      if (jar.get(cookie) === status) {
        setCookie(`${cookie}=; Path=/; Max-Age=0`);
        return send(200, 'data: data\n\n');
      }
      setCookie(`${cookie}=${status}; Path=/; HttpOnly`);
      return send(Number(status), `retry: 2\n${q.has('ok_first') ? 'data: ok\n\n' : ''}`, 'TEST');
    }

    function unsafeLastEventId() {
      // First request: an event with a safe, an unsafe or a long id; its reconnection must carry
      // it, after a preflight exactly when the id is not CORS-safe (`success` or `failure`).
      const acrh = req.headers['access-control-request-headers'];
      if (origin) headers['access-control-allow-origin'] = origin;
      if (typeof acrh === 'string') headers['access-control-allow-headers'] = acrh;
      const fixture = str('fixture');
      const token = str('token');
      const ids = { safe: 'abc', unsafe: 'e5p3n<3k0k0s', long: 'a'.repeat(255) };
      const id = lastEventId?.toString('latin1') ?? '';
      if (req.method === 'OPTIONS') {
        if (id === '' && typeof acrh !== 'string') return send(400, 'no preflight expected here');
        stash.set(token, typeof acrh === 'string' ? acrh : '');
        return send(200);
      }
      sse();
      headers['cache-control'] = 'no-store';
      if (id === '') {
        const first = ids[/** @type {'safe'} */ (fixture)];
        return send(200, first ? `id: ${first}\nretry: 200\ndata: ${fixture}\n\n` : 'event: failure\ndata: unknown fixture\n\n');
      }
      const preflight = stash.get(token);
      stash.delete(token);
      const expectPreflight = fixture !== 'safe';
      if (preflight !== undefined && !expectPreflight) return send(200, 'event: failure\ndata: saw preflight, did not expect one\n\n');
      if (preflight === undefined && expectPreflight) return send(200, 'event: failure\ndata: expected preflight, did not get one\n\n');
      if (preflight !== undefined && preflight.toLowerCase() !== 'last-event-id') return send(200, `event: failure\ndata: preflight asked for ${preflight}\n\n`);
      const expected = ids[/** @type {'safe'} */ (fixture)];
      return send(200, `event: ${id === expected ? 'success' : 'failure'}\ndata: got ${id}, expected ${expected}\n\n`);
    }
  }

  /**
   * @param {string} pathname
   * @param {import('node:http').ServerResponse} res
   */
  function serveStatic(pathname, res) {
    for (const { prefix, dir } of STATIC) {
      if (!pathname.startsWith(prefix)) continue;
      const file = normalize(join(dir, decodeURIComponent(pathname.slice(prefix.length))));
      if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) break;
      res.writeHead(200, { 'content-type': TYPES[/** @type {'.js'} */ (extname(file))] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  const listen = () =>
    new Promise((resolve) => {
      const server = createServer((req, res) => {
        handle(req, res).catch((error) => {
          if (!res.headersSent) res.writeHead(500);
          res.end(String(error));
        });
      });
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      servers.push(server);
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`));
    });
  const origin = /** @type {string} */ (await listen());
  const crossOrigin = /** @type {string} */ (await listen());
  return {
    origin,
    crossOrigin,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
