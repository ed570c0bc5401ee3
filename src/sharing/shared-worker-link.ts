import { FIRST_TAB_GUESS_MS, MAX_WORKER_DEATHS, WORKER_ATTACH_TIMEOUT_MS, WORKER_CHECK_MS, WORKER_DEATH_WINDOW_MS, WORKER_REATTACH_MS } from '../protocol/limits.js';
import { randomId } from '../protocol/random-id.js';
import { PROTOCOL_VERSION } from '../protocol/release.js';
import type { TabMessage } from '../protocol/tab-hub-messages.js';
import type { StatusError } from '../protocol/types.js';
import type { Link } from './link.js';
import { holdLock, webLocks, workerLockPrefix } from './locks.js';
import { createSessionLink } from './session-link.js';
import type { TabContext } from './tab-context.js';
import { watchHub, type HubWatch } from './watch-hub.js';
import { decodeHubMessage } from './wire-decoder.js';
import type { WorkerFailure } from './worker-failure.js';

/** The tab's link to the SharedWorker at `workerUrl`, one per page and URL. */
export function sharedWorkerLink(context: TabContext, workerUrl: string): Link {
  return context.once(`worker:${workerUrl}`, () => createSharedWorkerLink(context, workerUrl));
}

/** One connection to a worker, until it dies or the page leaves. */
interface WorkerConnection {
  /** Ends it: its port, its timers, its watch of the worker. */
  end(): void;
}

function createSharedWorkerLink(context: TabContext, workerUrl: string): Link {
  const locks = webLocks();
  const tabLock = `${context.namespace}:tab:${randomId()}`;
  /** Held for the page's life, so the worker notices a tab that dies without a word; asked for once attached. */
  let tabLockHeld: Promise<boolean> | undefined;
  const shared = createSessionLink('shared-worker', context, () => current ?? connect());
  const deaths: number[] = [];
  let current: WorkerConnection | undefined;
  /** A worker has welcomed the current connection. */
  let welcomed = false;
  /** Callers of `alone()` waiting for a welcome, or for the failure that means none comes. */
  const waiting: (() => void)[] = [];
  const settle = () => waiting.splice(0).forEach((answer) => answer());
  /** Given up on for good (see `fail`). */
  let gaveUp = false;

  /**
   * Gives up on the worker for good; the subscribers move to the next sharing mode, told why
   * (./worker-failure.ts, a chunk: failing is rare, and the worker URL is looked at then).
   */
  function fail(why: WorkerFailure, detail?: unknown): void {
    end();
    gaveUp = true;
    settle();
    void explain(why, detail).then((error) => shared.fail(error!.code, error!.message));
  }

  const explain = (why: WorkerFailure, detail?: unknown) =>
    import('./worker-failure.js').then(
      (m) => m.explainFailure(context, workerUrl, why, detail),
      (): StatusError => ({ code: 'sharing-unavailable', message: `The SharedWorker at ${workerUrl} failed (${why})` }),
    );

  function end(): void {
    current?.end();
    current = undefined;
    welcomed = false;
  }

  /** `diedAt`: a restart, when the last worker died (0: a first start). */
  function connect(diedAt = 0): void {
    // A data: or blob: URL starts a worker no other tab can join.
    if (/^(data|blob):/.test(workerUrl)) return fail('start');
    let worker: SharedWorker;
    try {
      // Named by the release and the protocol, so a tab never joins a worker of another release
      // (one that outlived a deploy); releases side by side each run their own.
      worker = new SharedWorker(workerUrl, { name: context.namespace });
    } catch (error) {
      return fail('start', error);
    }
    const port = worker.port;
    const send = (message: TabMessage) => port.postMessage(message);
    let watch: HubWatch | undefined;
    /** Until the worker welcomes this tab: whether its URL serves a worker at all, and whether it answers in time. */
    let checkTimer: ReturnType<typeof setTimeout> | undefined;
    let attachTimer: ReturnType<typeof setTimeout> | undefined;
    const mine: WorkerConnection = {
      end() {
        watch?.stop();
        clearTimeout(checkTimer);
        clearTimeout(attachTimer);
        port.close();
      },
    };
    current = mine;
    const failed = (why: WorkerFailure, detail?: unknown) => {
      if (current !== mine) return;
      send({ kind: 'detach' });
      fail(why, detail);
    };
    port.onmessage = ({ data }) => {
      const message = decodeHubMessage(data);
      if (!message) return;
      if (message.kind === 'welcome') {
        clearTimeout(checkTimer);
        clearTimeout(attachTimer);
        if (message.protocol !== PROTOCOL_VERSION) return failed('protocol', message.protocol);
        watch = watchHub(message, () => died(mine));
        welcomed = true;
        settle();
      } else if (!watch) {
        // Nothing of a worker that has not welcomed this tab is read: it may speak another protocol.
      } else if (message.kind === 'ping') {
        send({ kind: 'pong' });
        watch.pinged();
      } else {
        watch.read(message, shared.receive);
      }
    };
    // A wrong URL (an HTML fallback page, another script) loads but never answers: look at it early.
    checkTimer = setTimeout(() => void explain('slow').then((error) => error && failed('slow')), WORKER_CHECK_MS);
    attachTimer = setTimeout(
      // The connection given up says so first: a worker that starts late keeps no session for it.
      () => (Date.now() < diedAt + WORKER_ATTACH_TIMEOUT_MS ? (send({ kind: 'detach' }), end(), connect(diedAt)) : failed('silent')),
      diedAt ? WORKER_REATTACH_MS : WORKER_ATTACH_TIMEOUT_MS,
    );
    worker.onerror = () => failed('error');
    send({ kind: 'attach' });
    // Subscriptions follow attach on the same port, so the worker handles them after it: no
    // round trip before the first event.
    shared.use(send);
    // After the subscriptions are on their way: a lock request holds the page for half a millisecond.
    void (tabLockHeld ??= holdLock(locks, tabLock).held).then((held) => {
      if (held && current === mine) send({ kind: 'watch', lock: tabLock });
    });
  }

  /** The worker was terminated (Safari does this when its creating tab closes): start another, resubscribe. */
  function died(dead: WorkerConnection): void {
    if (current !== dead) return;
    end();
    const now = Date.now();
    // The last deaths, at most MAX_WORKER_DEATHS: one more, and the oldest went within the window.
    if (deaths.push(now) > MAX_WORKER_DEATHS && deaths.shift()! > now - WORKER_DEATH_WINDOW_MS) return fail('dying');
    shared.lost();
    connect(now);
  }

  // pagehide is the fast path for a closing tab, and a page entering the back/forward cache (or
  // frozen in the background) must not hold the worker's deliveries while frozen; a page that
  // comes back attaches again and resumes from where each of its subscribers stands.
  const leave = () => {
    if (!current) return;
    shared.detach();
    end();
    shared.lost();
  };
  const back = () => {
    if (!current && shared.size > 0) connect();
  };
  context.onPage('pagehide', leave);
  context.onPage('freeze', leave);
  context.onPage('pageshow', (event) => event.persisted && back());
  context.onPage('resume', back);

  return {
    ...shared.link,
    alone() {
      return new Promise<boolean>((resolve) => {
        if (welcomed || gaveUp) return resolve(false);
        const guess = setTimeout(() => decide(true), FIRST_TAB_GUESS_MS);
        const decide = (first: boolean) => {
          clearTimeout(guess);
          resolve(first);
        };
        // A running worker welcomes a tab within milliseconds, often before the locks answer.
        waiting.push(() => decide(false));
        Promise.resolve(locks?.query?.()).then(
          (state) => decide(!!state && !state.held?.some((lock) => lock.name?.startsWith(workerLockPrefix(context.namespace)))),
          () => decide(false),
        );
      });
    },
  };
}
