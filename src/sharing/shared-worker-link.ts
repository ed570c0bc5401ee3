import * as Comlink from 'comlink';
import { RealtimeError } from '../protocol/errors.js';
import { NAMESPACE, PROTOCOL_VERSION, type DataMessage, type HubControl, type TabControl } from '../protocol/messages.js';
import type { Link } from './link.js';
import { holdLock, randomId, webLocks, whenReleased } from './locks.js';
import { createSessionLink, type Session } from './session-link.js';

/**
 * Worker name: the release and the protocol are in it, so a tab never joins a worker of another
 * release (one that outlived a deploy); releases side by side each run their own.
 */
export const WORKER_NAME = NAMESPACE;
/** A worker that has not answered `attach` by then is taken as failed (a busy machine starts one slowly). */
const ATTACH_TIMEOUT_MS = 10_000;
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

/** One connection to a worker, with everything it holds open. */
interface WorkerSession extends Session {
  control: Comlink.Remote<HubControl>;
  /** Ends what this connection holds: ports, lock waits, timers. */
  close(): void;
}

function createSharedWorkerLink(workerUrl: string): Link {
  const locks = webLocks();
  const tabLock = `${NAMESPACE}:tab:${randomId()}`;
  // Held for the page's life, so the worker notices a tab that dies without a word.
  const tabLockHeld = locks ? holdLock(locks, tabLock).held : Promise.resolve(false);
  const tabControl: TabControl = { headers: (sub) => shared.table.headers(sub) };
  const shared = createSessionLink('shared-worker', () => void (current ?? connect()));
  const deaths: number[] = [];
  let current: WorkerSession | undefined;

  function connect(): WorkerSession | undefined {
    let worker: SharedWorker;
    try {
      worker = new SharedWorker(workerUrl, { name: WORKER_NAME });
    } catch (error) {
      shared.fail(new RealtimeError('sharing-unavailable', `The SharedWorker at ${workerUrl} cannot start: ${(error as Error)?.message ?? error}`).toJSON());
      return undefined;
    }
    const port = worker.port;
    const control = Comlink.wrap<HubControl>(port);
    Comlink.expose(tabControl, port);
    const data = new MessageChannel();
    const owned: (() => void)[] = [];
    const quiet = () => {};
    const session: WorkerSession = {
      control,
      subscribe: (request) => void control.subscribe(request).catch(quiet),
      update: (sub, filter, position) => void control.update(sub, filter, position).catch(quiet),
      unsubscribe: (sub, grace) => void control.unsubscribe(sub, grace).catch(quiet),
      detach: () => void control.detach().catch(quiet),
      close() {
        for (const end of owned.splice(0)) end();
        data.port1.close();
        port.close();
      },
    };
    current = session;

    const failed = (error: RealtimeError) => {
      if (current !== session) return;
      session.detach();
      session.close();
      current = undefined;
      shared.fail(error.toJSON());
    };
    let pingWatch: ReturnType<typeof setTimeout> | undefined;
    owned.push(() => clearTimeout(pingWatch));
    const watchPings = (everyMs: number) => {
      clearTimeout(pingWatch);
      pingWatch = setTimeout(() => died(session), everyMs * 3);
    };
    data.port1.onmessage = (event: MessageEvent<DataMessage>) => {
      const message = event.data;
      if ('frames' in message) return shared.table.dispatch(message.frames);
      void control.pong().catch(quiet);
      watchPings(message.ping);
    };
    const answer = setTimeout(() => failed(new RealtimeError('sharing-unavailable', `The SharedWorker at ${workerUrl} did not answer`)), ATTACH_TIMEOUT_MS);
    owned.push(() => clearTimeout(answer));
    worker.onerror = () => failed(new RealtimeError('sharing-unavailable', `The SharedWorker at ${workerUrl} failed to start`));
    control.attach(Comlink.transfer(data.port2, [data.port2])).then(
      (welcome) => {
        clearTimeout(answer);
        if (welcome?.v !== PROTOCOL_VERSION) {
          return failed(new RealtimeError('protocol-mismatch', `The SharedWorker speaks protocol ${String(welcome?.v)}, this tab ${PROTOCOL_VERSION}`));
        }
        if (current !== session) return;
        if (welcome.lifeLock && locks) owned.push(whenReleased(locks, welcome.lifeLock, () => died(session)));
        if (welcome.pingMs) watchPings(welcome.pingMs);
      },
      () => failed(new RealtimeError('protocol-mismatch', `The SharedWorker at ${workerUrl} does not speak protocol ${PROTOCOL_VERSION}`)),
    );
    void tabLockHeld.then((held) => {
      if (held && current === session) void control.watch(tabLock).catch(quiet);
    });
    // Subscriptions follow attach on the same port, so the worker handles them after it: no
    // round trip before the first event.
    shared.use(session);
    return session;
  }

  /** The worker was terminated (Safari does this when its creating tab closes): start another, resubscribe. */
  function died(dead: WorkerSession): void {
    if (current !== dead) return;
    dead.close();
    current = undefined;
    const now = Date.now();
    deaths.push(now);
    while (deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
    if (deaths.length > MAX_RESTARTS) return shared.fail(new RealtimeError('sharing-unavailable', 'The SharedWorker keeps dying').toJSON());
    shared.lost();
    connect();
  }

  // pagehide is the fast path for a closing tab, and a page entering the back/forward cache must
  // not hold the worker's deliveries while frozen; a restored page attaches again and resumes
  // from where each of its subscribers stands.
  const g = globalThis as unknown as EventTarget;
  if (typeof g.addEventListener === 'function') {
    g.addEventListener('pagehide', () => {
      const session = current;
      if (!session) return;
      current = undefined;
      session.detach();
      session.close();
      shared.lost();
    });
    g.addEventListener('pageshow', (event) => {
      if ((event as PageTransitionEvent).persisted && !current && shared.table.size > 0) connect();
    });
  }

  return shared.link;
}
