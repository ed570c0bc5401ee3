// @ts-check
// A throwaway redis-server for tests: a free port of 127.0.0.1, no persistence, stopped by the
// test that started it. REDIS_SERVER_PATH overrides the Debian default.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from './free-port.js';

export const DEFAULT_REDIS_SERVER = '/usr/bin/redis-server';

/** @returns {string} */
export function redisServerPath() {
  return process.env.REDIS_SERVER_PATH || DEFAULT_REDIS_SERVER;
}

/** @returns {boolean} */
export function hasRedisServer() {
  return existsSync(redisServerPath());
}

/**
 * @typedef {object} RedisServer
 * @property {string} url    `redis://127.0.0.1:<port>`
 * @property {number} port
 * @property {() => Promise<void>} stop  Ends the server (SIGTERM, SIGKILL after 2 s) and waits for it.
 * @property {() => Promise<void>} kill  SIGKILLs the server (a crash) and waits until it is gone.
 */

/**
 * @typedef {object} RedisStartOptions
 * @property {number} [port]     this port (a restart on the port of a killed server); default a free one
 * @property {string} [dataDir]  keep the data in an append-only file here, written before each
 *   reply (`appendfsync always`), so that a server killed and started again on the same
 *   directory has every acknowledged write; default no persistence
 * @property {string} [password] require this password (`requirepass`); default none
 */

/**
 * True once `PING` is answered with `PONG`.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      // A server that wants a password answers NOAUTH: it is up all the same.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

/**
 * Starts redis-server and resolves once it answers.
 * @param {RedisStartOptions} [options]
 * @returns {Promise<RedisServer>}
 */
export async function startRedis(options = {}) {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const persistence = options.dataDir
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.dataDir]
      : ['--appendonly', 'no', '--dir', tmpdir()];
    const child = spawn(
      redisServerPath(),
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, ...(options.password ? ['--requirepass', options.password] : []), '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let exited = false;
    const exit = new Promise((resolve) => child.once('exit', () => resolve((exited = true))));
    child.once('error', () => {}); // a missing binary: seen as an exit below
    const deadline = Date.now() + 5_000;
    while (!exited && Date.now() < deadline && !(await ping(port))) await new Promise((r) => setTimeout(r, 20));
    if (!exited && Date.now() < deadline) {
      const stop = async () => {
        if (exited) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exit;
        clearTimeout(timer);
      };
      const kill = async () => {
        if (exited) return;
        child.kill('SIGKILL');
        await exit;
      };
      return { url: `redis://127.0.0.1:${port}`, port, stop, kill };
    }
    child.kill('SIGKILL');
    await exit;
    // Another process may have taken the port between freePort() and the bind (or, for a
    // restart on a given port, the old server's socket is still being released).
    if (attempt === 3) throw new Error(`redis-server (${redisServerPath()}) did not start`);
  }
}
