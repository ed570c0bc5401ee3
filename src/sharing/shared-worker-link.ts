import { NAMESPACE, PROTOCOL_VERSION, type DataMessage, type HubControl, type TabControl, type Welcome } from '../protocol/messages.js';
import type { StatusError } from '../protocol/types.js';
import type { Link } from './link.js';
import type { WorkerFailure } from './worker-failure.js';
import { holdForLife, webLocks, whenReleased } from './locks.js';
import { decodeFrames } from './decode-frames.js';
import { expose, notifier } from './rpc.js';
import { createSessionLink } from './session-link.js';

/** A worker that has not answered `attach` by then has its URL looked at (./worker-failure.ts): a wrong URL never answers. */
const CHECK_AFTER_MS = 500;
/** A worker that has not answered `attach` by then is taken as failed (a busy machine starts one slowly). */
const ATTACH_TIMEOUT_MS = 10_000;
/**
 * After a death, a worker that has not answered by then is made anew (until
 * {@link ATTACH_TIMEOUT_MS} after the death): Firefox attaches a SharedWorker made while the dead
 * one is torn down to that one, which never answers; one made a little later starts afresh.
 */
const REATTACH_MS = 1_000;
/** More worker deaths than this within {@link RESTART_WINDOW_MS} and the link gives up. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 30_000;

const links = new Map<string, Link>();

/** The tab's link to the SharedWorker at `workerUrl`, one per tab and URL. */
export function sharedWorkerLink(workerUrl: string): Link {
  let link = links.get(workerUrl);
  if (!link) links.set(workerUrl, (link = createSharedWorkerLink(workerUrl)));
  return link;
}

function createSharedWorkerLink(workerUrl: string): Link {
  const locks = webLocks();
  // Web Locks come with secure contexts, and so does randomUUID.
  const tabLock = `${NAMESPACE}:tab:${locks && crypto.randomUUID()}`;
  /** Held for the page's life, so the worker notices a tab that dies without a word; asked for once attached. */
  let tabLockHeld: Promise<boolean> | undefined;
  const tabControl: TabControl = { headers: (sub) => shared.headers(sub) };
  const shared = createSessionLink('shared-worker', () => current ?? connect());
  const deaths: number[] = [];
  /** Ends the current connection to the worker: its ports, lock wait and timers. */
  let current: (() => void) | undefined;

  /**
   * Gives up on the worker for good; the subscribers move to the next sharing mode, told why
   * (./worker-failure.ts, a chunk: failing is rare, and the worker URL is looked at then).
   */
  function fail(why: WorkerFailure, detail?: unknown): void {
    end();
    explain(why, detail).then((error) => shared.fail(error!.code, error!.message));
  }

  const explain = (why: WorkerFailure, detail?: unknown) =>
    import('./worker-failure.js').then(
      (m) => m.explainFailure(workerUrl, why, detail),
      (): StatusError => ({ code: 'sharing-unavailable', message: `The SharedWorker at ${workerUrl} failed (${why})` }),
    );

  function end(): void {
    current?.();
    current = undefined;
  }

  /** `diedAt`: a restart, when the last worker died (0: a first start). */
  function connect(diedAt = 0): void {
    // A data: or blob: URL starts a worker no other tab can join.
    if (/^(data|blob):/.test(workerUrl)) return fail('start');
    let worker: SharedWorker;
    try {
      // Named by the release and the protocol, so a tab never joins a worker of another release
      // (one that outlived a deploy); releases side by side each run their own.
      worker = new SharedWorker(workerUrl, { name: NAMESPACE });
    } catch (error) {
      return fail('start', error);
    }
    const port = worker.port;
    const session = notifier<HubControl>(port);
    const timers: ReturnType<typeof setTimeout>[] = [];
    let stopWatching: (() => void) | undefined;
    const mine = () => {
      stopExposing();
      stopWatching?.();
      timers.forEach(clearTimeout);
      port.close();
    };
    // The hub's data shares the port with its calls to the tab (which have `m`), before expose starts the port.
    port.addEventListener('message', ({ data: message }: MessageEvent<DataMessage>) => {
      if ('frames' in message) return shared.dispatch(decodeFrames(message.frames));
      if ('welcome' in message) return welcomed(message.welcome);
      if (!('ping' in message)) return;
      session.pong();
      watchPings(message.ping);
    });
    const stopExposing = expose(tabControl, port);
    current = mine;
    const watchPings = (everyMs: number) => {
      clearTimeout(timers[2]);
      timers[2] = setTimeout(() => died(mine), everyMs * 3);
    };
    const failed = (why: WorkerFailure, detail?: unknown) => current === mine && (session.detach(), fail(why, detail));
    // A wrong URL (an HTML fallback page, another script) loads but never answers: look at it early.
    timers[0] = setTimeout(() => explain('slow').then((error) => error && failed('slow')), CHECK_AFTER_MS);
    timers[1] = setTimeout(
      // The connection given up says so first: a worker that starts late leaves no session for it.
      () => (Date.now() < diedAt + ATTACH_TIMEOUT_MS ? (session.detach(), end(), connect(diedAt)) : failed('silent')),
      diedAt ? REATTACH_MS : ATTACH_TIMEOUT_MS,
    );
    worker.onerror = () => failed('error');
    const welcomed = (welcome: Welcome) => {
      clearTimeout(timers[0]);
      clearTimeout(timers[1]);
      if (welcome.v !== PROTOCOL_VERSION) return failed('protocol', welcome.v);
      if (welcome.lifeLock && locks) stopWatching = whenReleased(locks, welcome.lifeLock, () => died(mine));
      if (welcome.pingMs) watchPings(welcome.pingMs);
    };
    session.attach();
    // Subscriptions follow attach on the same port, so the worker handles them after it: no
    // round trip before the first event.
    shared.use(session);
    // After the subscriptions are on their way: a lock request holds the page for half a millisecond.
    void (tabLockHeld ??= holdForLife(locks, tabLock)).then((held) => {
      if (held && current === mine) session.watch(tabLock);
    });
  }

  /** The worker was terminated (Safari does this when its creating tab closes): start another, resubscribe. */
  function died(dead: () => void): void {
    if (current !== dead) return;
    end();
    const now = Date.now();
    // The last deaths, at most MAX_RESTARTS: one more, and the oldest went within the window.
    if (deaths.push(now) > MAX_RESTARTS && deaths.shift()! > now - RESTART_WINDOW_MS) return fail('dying');
    shared.lost();
    connect(now);
  }

  // pagehide is the fast path for a closing tab, and a page entering the back/forward cache must
  // not hold the worker's deliveries while frozen; a restored page attaches again and resumes
  // from where each of its subscribers stands.
  const g = globalThis as unknown as Partial<EventTarget>;
  g.addEventListener?.('pagehide', () => {
    if (!current) return;
    shared.session?.detach();
    end();
    shared.lost();
  });
  g.addEventListener?.('pageshow', (event) => {
    if ((event as PageTransitionEvent).persisted && !current && shared.size > 0) connect();
  });

  return shared.link;
}
