// `node bench/server-bench.mjs`: the server side under load, on this machine. For each server
// (ssemux/server with memoryStore, with redisStore on a local redis-server, and better-sse, the
// most used Node SSE library) in a child process of its own: open 10,000 SSE connections from
// this process (keep-alive agent), measure the server's memory per open connection, publish at
// a steady rate (publish-to-delivery latency p50/p99, over all connections), then publish a
// burst in a loop of awaited publish() calls, as an app would, and measure in the server the
// longest time its event loop was held meanwhile (wall time, and the CPU time the server used in
// that gap: on a loaded machine a gap can also be the server waiting for a core) and the
// deliveries per second. Prints one Markdown table. The clients share the machine's 2 cores
// with the server (and Redis), so the ceiling is the machine's. Each connection is a user of its
// own (the most presence has to count). Last, BENCH_CHURN of the connections reconnect (closed,
// then opened again as the same users, in batches): the server's CPU time per reconnect. The rows
// `memoryStore, no presence` and `redisStore, no presence` are the same servers with
// `presence: false`: the difference is what presence costs.
// Env: BENCH_CONNECTIONS (10000), BENCH_RATE (5/s), BENCH_SECONDS (5), BENCH_BURST (200 events),
// BENCH_CHURN (1000 reconnects); BENCH_SERVER_BUNDLE: another build of ssemux/server to measure
// (an absolute path; default dist/); BENCH_SERVERS=memoryStore,memoryStore-no-presence,
// redisStore,redisStore-no-presence,better-sse: only these rows.
// `--json`: print the figures as one JSON line instead (scripts/bench.mjs puts them in its table).
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BURST = Number(process.env.BENCH_BURST ?? 200);
const CHURN = Number(process.env.BENCH_CHURN ?? 1_000);
/** Connections opened at once while the bench connects. */
const CONNECT_BATCH = 500;
const now = () => performance.timeOrigin + performance.now();

/** Server processes alive now, and the throwaway redis-server's stop(): stopped on SIGINT/SIGTERM too. */
const children = new Set();
let stopRedis = null;

if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4]);
else {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, async () => {
      for (const child of children) child.kill('SIGKILL');
      await stopRedis?.();
      process.exit(130);
    });
  }
  await main();
}

// ---- the server process -------------------------------------------------------------------

async function serve(kind, redisUrl) {
  // The bench process went away (killed, interrupted): do not stay behind as an orphan.
  process.on('disconnect', () => process.exit(0));
  let publish;
  let close = async () => {};
  let handler;
  if (kind === 'better-sse') {
    const { createChannel, createSession } = await import('better-sse');
    const channel = createChannel();
    let n = 0;
    handler = async (req, res) => channel.register(await createSession(req, res, { keepAlive: 15_000, retry: 1_000 }));
    publish = async (data) => void channel.broadcast(data, 'message', { eventId: String(++n) }); // JSON-encodes data
  } else {
    const bundle = process.env.BENCH_SERVER_BUNDLE ? pathToFileURL(process.env.BENCH_SERVER_BUNDLE).href : '../dist/ssemux-server.js';
    const { createRealtimeServer, memoryStore, redisStore } = await import(bundle);
    const store = kind.startsWith('redisStore') ? redisStore({ url: redisUrl, key: `bench:${Date.now()}` }) : memoryStore();
    const realtime = createRealtimeServer({
      store,
      presence: !kind.endsWith('-no-presence'),
      authenticate: (req) => req.headers['x-user'] ?? {},
    });
    handler = realtime.handler;
    publish = (data) => realtime.publish({ topic: 'bench', data }); // JSON-encodes data
    close = async () => {
      await realtime.close();
      await store.close();
    };
  }
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1', () => process.send({ ready: server.address().port }));

  let timer;
  /** The longest gap between ticks of a 5 ms timer, in wall time and in this process's CPU time. */
  let monitor = null;
  process.on('message', async (message) => {
    if (message.memory) {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      process.send({ memory: { rss, heap: heapUsed + external + arrayBuffers } });
    }
    if (message.publish) {
      // A steady rate: each 5 ms tick publishes what is due by then.
      const { rate, seconds } = message.publish;
      const total = Math.round(rate * seconds);
      const start = now();
      let sent = 0;
      await new Promise((resolve) => {
        timer = setInterval(async () => {
          const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000) + 1);
          const batch = [];
          while (sent < due) {
            sent++;
            batch.push(publish({ t: now() }));
          }
          await Promise.all(batch);
          if (sent >= total) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      process.send({ published: total });
    }
    if (message.burst) {
      let lastWall = performance.now();
      let lastCpu = process.cpuUsage();
      monitor = { wall: 0, cpu: 0 };
      monitor.timer = setInterval(() => {
        const wall = performance.now();
        const cpu = process.cpuUsage(lastCpu);
        monitor.wall = Math.max(monitor.wall, wall - lastWall);
        monitor.cpu = Math.max(monitor.cpu, (cpu.user + cpu.system) / 1000);
        lastWall = wall;
        lastCpu = process.cpuUsage();
      }, 5);
      // As an app would: a loop of awaited publishes.
      for (let i = 0; i < message.burst; i++) await publish({ t: now() });
      process.send({ burst: message.burst });
    }
    if (message.cpu) {
      const { user, system } = process.cpuUsage();
      process.send({ cpu: (user + system) / 1000 });
    }
    if (message.blocked) {
      clearInterval(monitor?.timer);
      process.send({ blocked: { wall: monitor?.wall ?? NaN, cpu: monitor?.cpu ?? NaN } });
      monitor = null;
    }
    if (message.close) {
      clearInterval(timer);
      clearInterval(monitor?.timer);
      server.closeAllConnections();
      server.close();
      await close();
      process.exit(0);
    }
  });
}

// ---- the clients and the report -----------------------------------------------------------

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

function startServer(kind, redisUrl) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, redisUrl ?? ''], { execArgv: ['--expose-gc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const waiting = new Map();
  child.on('message', (message) => {
    for (const key of Object.keys(message)) waiting.get(key)?.(message[key]);
  });
  const ask = (key, message) => new Promise((resolve) => {
    waiting.set(key, resolve);
    if (message) child.send(message);
  });
  return { child, ask };
}

/** One SSE client: counts events and records latency from the `t` in each event's data. */
function connect(agent, port, path, record, user) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { 'x-user': user } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.setEncoding('utf8');
      let carry = '';
      let opened = false;
      res.on('data', (chunk) => {
        const at = now();
        const text = carry + chunk;
        let cut = 0;
        for (let i = text.indexOf('{"t":'); i !== -1; i = text.indexOf('{"t":', i + 5)) {
          const end = text.indexOf('}', i);
          if (end === -1) break;
          record(at - Number(text.slice(i + 5, end)));
          cut = end + 1;
        }
        carry = text.slice(Math.max(cut, text.length - 64));
        if (!opened) {
          opened = true;
          resolve(req);
        }
      });
      res.on('error', () => {});
    });
    req.on('error', reject);
  });
}

async function run(kind, redisUrl) {
  const { child, ask } = startServer(kind, redisUrl);
  const port = await ask('ready');
  const before = await ask('memory', { memory: true });
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let latencies = [];
  let delivered = 0;
  let lastDelivery = 0;
  const record = (ms) => {
    latencies.push(ms);
    delivered++;
    lastDelivery = now();
  };
  const requests = [];
  for (let i = 0; i < CONNECTIONS; i += CONNECT_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(CONNECTIONS, i + CONNECT_BATCH); j++) batch.push(connect(agent, port, '/events?topic=bench', record, `user-${j}`));
    requests.push(...(await Promise.all(batch)));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await ask('memory', { memory: true });

  /** Waits until `expected` deliveries arrived (or 60 s passed): the phase's figures. */
  const settle = async (started, expected) => {
    const deadline = now() + 60_000;
    while (delivered < expected && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const sorted = Float64Array.from(latencies).sort();
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      perSecond: delivered / ((lastDelivery - started) / 1000),
      lost: expected - delivered,
    };
  };
  const reset = () => {
    latencies = [];
    delivered = 0;
  };

  reset();
  let started = now();
  const published = await ask('published', { publish: { rate: RATE, seconds: SECONDS } });
  const steady = await settle(started, published * CONNECTIONS);

  reset();
  started = now();
  await ask('burst', { burst: BURST });
  const burst = await settle(started, BURST * CONNECTIONS);
  burst.blocked = await ask('blocked', { blocked: true });

  // Reconnects: closed, then opened again as the same users, as clients do after a deploy or a
  // change of topics; the server's CPU time from the first close until a moment after the last
  // open (presence tells the other servers within its batch window).
  const churned = Math.min(CHURN, CONNECTIONS);
  const cpuBefore = await ask('cpu', { cpu: true });
  for (let i = 0; i < churned; i += CONNECT_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(churned, i + CONNECT_BATCH); j++) {
      requests[j].destroy();
      batch.push(connect(agent, port, '/events?topic=bench', () => {}, `user-${j}`));
    }
    requests.splice(i, batch.length, ...(await Promise.all(batch)));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const reconnectCpu = ((await ask('cpu', { cpu: true })) - cpuBefore) / churned;

  for (const req of requests) req.destroy();
  agent.destroy();
  child.send({ close: true });
  await new Promise((resolve) => child.once('exit', resolve));
  return {
    kind,
    rssPerConnection: (after.rss - before.rss) / CONNECTIONS / 1024,
    heapPerConnection: (after.heap - before.heap) / CONNECTIONS / 1024,
    reconnectCpu,
    steady,
    burst,
  };
}

async function main() {
  const { ensureServerBuild } = await import('../test/support/cluster.js');
  const { startRedis } = await import('../test/support/redis.js');
  ensureServerBuild();
  const redis = await startRedis();
  stopRedis = redis.stop;
  const rows = [];
  const servers = process.env.BENCH_SERVERS?.split(',').map((name) => name.trim()) ?? ['memoryStore', 'memoryStore-no-presence', 'redisStore', 'redisStore-no-presence', 'better-sse'];
  try {
    for (const kind of servers) rows.push(await run(kind, kind.startsWith('redisStore') ? redis.url : undefined));
  } finally {
    await redis.stop();
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ connections: CONNECTIONS, rate: RATE, seconds: SECONDS, burst: BURST, churn: CHURN, node: process.version, rows }));
    return;
  }
  const fixed = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  console.log(
    `\n${CONNECTIONS} connections on 127.0.0.1 (a user each), Node ${process.version}: latency at ${RATE} events/s for ${SECONDS} s; then ${BURST} events published in a loop of awaited publish() calls: the longest the server's event loop was held (wall time, and the server's CPU time in that gap), deliveries/s; then ${Math.min(CHURN, CONNECTIONS)} reconnects: the server's CPU time per reconnect\n`,
  );
  console.log(`| server | p50 ms at ${RATE}/s | p99 ms at ${RATE}/s | longest block ms in the burst (CPU ms) | burst p99 ms | deliveries/s in the burst | events lost | RSS KB/connection | heap KB/connection | CPU µs/reconnect |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.kind === 'better-sse' ? 'better-sse' : `ssemux/server, ${r.kind.replace('-no-presence', ', no presence')}`} | ${fixed(r.steady.p50, 2)} | ${fixed(r.steady.p99, 2)} | ${fixed(r.burst.blocked.wall, 0)} (${fixed(r.burst.blocked.cpu, 0)}) | ${fixed(r.burst.p99, 0)} | ${fixed(r.burst.perSecond, 0)} | ${r.steady.lost + r.burst.lost} | ${fixed(r.rssPerConnection)} | ${fixed(r.heapPerConnection)} | ${fixed(r.reconnectCpu * 1000, 0)} |`,
    );
  }
}
