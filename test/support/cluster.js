// @ts-check
// Several demo-server processes (node demo-server/cli.js) on one Redis, behind a round-robin
// proxy that streams: what a deployment with a load balancer looks like, on 127.0.0.1. A test
// can SIGKILL one instance; stop() ends everything it started. The instances import
// ssemux/server as an app does, from dist/: see ensureServerBuild().
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = `${root}dist/ssemux-server.js`;

/** Builds dist/ssemux-server.js when it is missing or older than its sources. */
export function ensureServerBuild() {
  const sources = [...readdirSync(`${root}src/server`).map((f) => `${root}src/server/${f}`), `${root}src/protocol/wire.ts`];
  const built = existsSync(BUNDLE) ? statSync(BUNDLE).mtimeMs : 0;
  if (sources.every((file) => statSync(file).mtimeMs < built)) return;
  const result = spawnSync(process.execPath, [`${root}scripts/build.mjs`, 'server'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('building dist/ssemux-server.js failed');
}

/**
 * @typedef {object} Instance
 * @property {number} port
 * @property {string} url
 * @property {import('node:child_process').ChildProcess} child
 * @property {boolean} alive
 */

/**
 * @typedef {object} Cluster
 * @property {string} url        the proxy: each new request goes to the next live instance
 * @property {Instance[]} instances
 * @property {(index: number) => Promise<void>} kill  SIGKILL instance `index` and wait until it is gone
 * @property {() => Promise<void>} stop  end the proxy and every instance
 */

/**
 * Starts one demo server process and resolves once it listens.
 * @param {Record<string, string>} env
 * @returns {Promise<Instance>}
 */
export async function startInstance(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [`${root}demo-server/cli.js`], {
    cwd: root,
    env: { ...process.env, DEMO_FEEDS: '0', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo server did not start:\n${output}`)), 10_000);
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      output += chunk;
      if (!output.includes('ssemux demo server on')) return;
      clearTimeout(timer);
      resolve(undefined);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo server exited (${code}):\n${output}`));
    });
  });
  /** @type {Instance} */
  const instance = { port, url: `http://127.0.0.1:${port}`, child, alive: true };
  child.once('exit', () => (instance.alive = false));
  return instance;
}

/**
 * Ends a child process: `signal` first, SIGKILL after 3 s.
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
async function end(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

const TYPES = /** @type {Record<string, string>} */ ({ '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' });

/**
 * A file of `statics` for `path`, as a CDN in front of the instances would serve it, or null.
 * @param {{ prefix: string, dir: string }[]} statics
 * @param {string} path
 */
function staticFile(statics, path) {
  const clean = normalize(decodeURIComponent(path.split('?')[0] ?? '/'));
  for (const { prefix, dir } of statics) {
    if (!clean.startsWith(prefix)) continue;
    const file = join(dir, clean.slice(prefix.length));
    if (file.startsWith(dir) && existsSync(file) && statSync(file).isFile()) return file;
  }
  return null;
}

/**
 * A proxy that forwards each request to the next live target, streaming both ways without
 * buffering, and keeps the Host header (so the instances see the origin the browser used).
 * Paths under `statics` it answers itself from disk.
 * @param {() => Instance[]} targets
 * @param {{ prefix: string, dir: string }[]} statics
 */
async function startProxy(targets, statics) {
  let next = 0;
  /** @type {Set<http.ClientRequest>} */
  const upstreams = new Set();
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const file = req.method === 'GET' ? staticFile(statics, req.url ?? '/') : null;
    if (file) return void res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    const live = targets().filter((instance) => instance.alive);
    const target = live[next++ % Math.max(1, live.length)];
    if (!target) return void res.writeHead(502).end('no instance\n');
    const upstream = http.request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
        res.flushHeaders();
        answer.pipe(res);
        // The instance died mid-body: so does this response, as through a real balancer.
        answer.once('error', () => res.destroy());
        answer.once('close', () => {
          if (!answer.complete) res.destroy();
        });
      },
    );
    upstreams.add(upstream);
    upstream.once('close', () => upstreams.delete(upstream));
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502).end('bad gateway\n');
      else res.destroy();
    });
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const upstream of upstreams) upstream.destroy();
        agent.destroy();
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      }),
  };
}

/**
 * Starts `instances` demo servers sharing the Redis at `redisUrl`, and the proxy in front.
 * `statics`: paths the proxy serves from disk (the test pages and the built library).
 * @param {{ redisUrl: string, instances?: number, env?: Record<string, string>, statics?: { prefix: string, dir: string }[] }} options
 * @returns {Promise<Cluster>}
 */
export async function startCluster({ redisUrl, instances: count = 2, env = {}, statics = [] }) {
  /** @type {Instance[]} */
  const instances = [];
  try {
    for (let i = 0; i < count; i++) instances.push(await startInstance({ ...env, REDIS_URL: redisUrl }));
  } catch (error) {
    await Promise.all(instances.map((instance) => end(instance.child, 'SIGTERM')));
    throw error;
  }
  const proxy = await startProxy(() => instances, statics);
  return {
    url: proxy.url,
    instances,
    kill: (index) => end(/** @type {Instance} */ (instances[index]).child, 'SIGKILL'),
    async stop() {
      await proxy.close();
      await Promise.all(instances.map((instance) => end(instance.child, 'SIGTERM')));
    },
  };
}
