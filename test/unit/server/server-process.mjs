// @ts-check
// A ssemux server alone in a process, for tests that measure the server itself (its memory,
// how long its event loop blocks) or kill it: `node server-process.mjs '<config JSON>'`, driven
// over IPC by server-process.ts. It imports ssemux/server from dist/, as an app does.
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { createRealtimeServer, memoryStore, redisStore } = await import(fileURLToPath(new URL('../../../dist/ssemux-server.js', import.meta.url)));

// The test went away (killed, failed): do not stay behind.
process.on('disconnect', () => process.exit(0));

/** @type {string[]} */
const errors = [];
const store = config.redisUrl ? redisStore({ url: config.redisUrl, key: config.key, memberLeaseMs: config.memberLeaseMs }) : memoryStore(config.memoryStore ?? {});
const realtime = createRealtimeServer({
  store,
  onError: (/** @type {any} */ error) => void errors.push(`${error?.name}: ${error?.message}`),
  authenticate: (/** @type {import('node:http').IncomingMessage} */ req) => req.headers.authorization || 'anonymous',
  ...config.options,
});
const server = http.createServer(realtime.handler);
server.listen(0, '127.0.0.1', () => process.send?.({ ready: /** @type {import('node:net').AddressInfo} */ (server.address()).port }));

/**
 * How long the event loop was held at most: the longest gap between ticks of a 5 ms timer, in
 * wall time and in the CPU time this process used meanwhile (on a loaded machine a gap can also
 * be the process waiting for a core, which CPU time does not count).
 */
let monitor = /** @type {{ timer: ReturnType<typeof setInterval>, wall: number, cpu: number } | null} */ (null);
/** @type {Record<string, (...args: any[]) => unknown>} */
const ops = {
  publish: (input) => realtime.publish(input),
  async fill({ topic, count, bytes }) {
    const data = 'x'.repeat(bytes);
    const cursors = [];
    for (let i = 0; i < count; i++) cursors.push(await realtime.publish({ topic, data }));
    return cursors;
  },
  async burst({ topic, count }) {
    const started = performance.now();
    for (let i = 0; i < count; i++) await realtime.publish({ topic, data: String(i) });
    return performance.now() - started;
  },
  rss() {
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    return process.memoryUsage().rss;
  },
  stats: () => realtime.stats(),
  errors: () => errors,
  disconnect: (filter) => realtime.disconnect(filter),
  presence: (topic) => realtime.presence(topic),
  startMonitor() {
    let lastWall = performance.now();
    let lastCpu = process.cpuUsage();
    const state = {
      wall: 0,
      cpu: 0,
      timer: setInterval(() => {
        const wall = performance.now();
        const cpu = process.cpuUsage(lastCpu);
        state.wall = Math.max(state.wall, wall - lastWall);
        state.cpu = Math.max(state.cpu, (cpu.user + cpu.system) / 1000);
        lastWall = wall;
        lastCpu = process.cpuUsage();
      }, 5),
    };
    monitor = state;
  },
  stopMonitor() {
    if (!monitor) return null;
    clearInterval(monitor.timer);
    const { wall, cpu } = monitor;
    monitor = null;
    return { wall, cpu };
  },
  async close() {
    await realtime.close();
    await store.close();
    server.closeAllConnections();
    server.close();
  },
};

process.on('message', async (/** @type {any} */ message) => {
  try {
    const result = await ops[message.op]?.(...(message.args ?? []));
    process.send?.({ id: message.id, result });
  } catch (/** @type {any} */ error) {
    process.send?.({ id: message.id, error: { name: error?.name, message: error?.message, reason: error?.reason } });
  }
});
