import * as Comlink from 'comlink';
import { RealtimeError, toStatusError } from '../protocol/errors.js';
import { PROTOCOL_VERSION, type DeliverMessage, type HubControl, type TabControl } from '../protocol/messages.js';
import type { Link, LinkSubscriber } from './link.js';
import { holdForever, randomId, webLocks, whenReleased } from './locks.js';
import { createSubscriberTable } from './subscriber-table.js';

/** Worker name; the version is in it so a tab of a new deploy never joins an old worker. */
export const WORKER_NAME = `ssemux@v${PROTOCOL_VERSION}`;
/** A worker that has not answered `hello` by then is taken as failed (a busy machine starts one slowly). */
const HELLO_TIMEOUT_MS = 10_000;
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

interface Session {
  control: Comlink.Remote<HubControl>;
  close(): void;
}

function createSharedWorkerLink(workerUrl: string): Link {
  const table = createSubscriberTable();
  const locks = webLocks();
  const tabLock = `ssemux:tab:${randomId()}`;
  // Held for the tab's life, so the worker notices a tab that dies without a word.
  const tabLockHeld = locks ? holdForever(locks, tabLock) : Promise.resolve();
  const tabControl: TabControl = { headers: (sub) => table.headers(sub) };
  let session: Promise<Session> | undefined;
  let broken: RealtimeError | undefined;
  const deaths: number[] = [];

  async function open(): Promise<Session> {
    if (typeof SharedWorker !== 'function') throw new RealtimeError('sharing-unavailable', 'SharedWorker is not available here');
    const worker = new SharedWorker(workerUrl, { name: WORKER_NAME });
    const control = Comlink.wrap<HubControl>(worker.port);
    const failed = new Promise<never>((_, reject) => {
      worker.onerror = () => reject(new RealtimeError('sharing-unavailable', `The SharedWorker at ${workerUrl} failed to start`));
      setTimeout(() => reject(new RealtimeError('sharing-unavailable', `The SharedWorker at ${workerUrl} did not answer`)), HELLO_TIMEOUT_MS);
    });
    failed.catch(() => {});
    let welcome;
    try {
      welcome = await Promise.race([control.hello(PROTOCOL_VERSION), failed]);
    } catch (error) {
      worker.port.close();
      throw error instanceof RealtimeError ? error : new RealtimeError('protocol-mismatch', `The SharedWorker does not speak protocol ${PROTOCOL_VERSION}`);
    }
    if (welcome?.v !== PROTOCOL_VERSION) {
      worker.port.close();
      throw new RealtimeError('protocol-mismatch', `The SharedWorker speaks protocol ${String(welcome?.v)}, this tab ${PROTOCOL_VERSION}`);
    }
    const data = new MessageChannel();
    const calls = new MessageChannel();
    data.port1.onmessage = (event: MessageEvent<DeliverMessage>) => {
      const message = event.data;
      if (message?.v === PROTOCOL_VERSION && message.kind === 'deliver') table.dispatch(message.frames);
    };
    Comlink.expose(tabControl, calls.port1);
    await tabLockHeld;
    await control.attach(tabLock, Comlink.transfer(data.port2, [data.port2]), Comlink.transfer(calls.port2, [calls.port2]));
    const current: Session = {
      control,
      close() {
        data.port1.close();
        calls.port1.close();
        control[Comlink.releaseProxy]();
        worker.port.close();
      },
    };
    if (locks && welcome.lifeLock) whenReleased(locks, welcome.lifeLock, () => void workerDied(current));
    return current;
  }

  /** The worker was terminated (Safari does this when its creating tab closes): start another, resubscribe. */
  async function workerDied(dead: Session): Promise<void> {
    if (!session || (await session.catch(() => undefined)) !== dead) return;
    dead.close();
    const now = Date.now();
    deaths.push(now);
    while (deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
    if (deaths.length > MAX_RESTARTS) return fail(new RealtimeError('sharing-unavailable', 'The SharedWorker keeps dying'));
    session = undefined;
    for (const [sub, subscriber] of table.entries()) void send(sub, subscriber);
  }

  function fail(error: RealtimeError): void {
    broken = error;
    session = undefined;
    const lost = [...table.entries()];
    for (const [sub] of lost) table.remove(sub);
    for (const [, subscriber] of lost) subscriber.onLost(error.toJSON());
  }

  function connected(): Promise<Session> {
    if (!session) {
      session = open();
      session.catch((error: unknown) => {
        fail(error instanceof RealtimeError ? error : new RealtimeError('sharing-unavailable', toStatusError(error).message));
      });
    }
    return session;
  }

  /** (Re)subscribes; a failure to connect is handled once, by connected(), for every subscriber. */
  async function send(sub: number, subscriber: LinkSubscriber): Promise<void> {
    const current = await connected().catch(() => undefined);
    if (!current || table.get(sub) !== subscriber) return;
    await current.control
      .subscribe({ sub, spec: subscriber.spec, types: subscriber.types(), lastEventId: subscriber.resumeFrom() })
      .catch(() => {});
  }

  // pagehide is the fast path for a closing tab; a page restored from the back-forward cache
  // attaches again with a fresh session.
  const g = globalThis as unknown as EventTarget;
  if (typeof g.addEventListener === 'function') {
    g.addEventListener('pagehide', () => {
      const current = session;
      session = undefined;
      void current?.then((s) => {
        void s.control.detach();
        s.close();
      }, () => {});
    });
    g.addEventListener('pageshow', (event) => {
      if (!(event as PageTransitionEvent).persisted || broken) return;
      for (const [sub, subscriber] of table.entries()) void send(sub, subscriber);
    });
  }

  return {
    sharing: 'shared-worker',
    subscribe(subscriber) {
      if (broken) {
        const error = broken.toJSON();
        queueMicrotask(() => subscriber.onLost(error));
        return { setTypes() {}, close() {} };
      }
      const sub = table.add(subscriber);
      void send(sub, subscriber);
      return {
        setTypes(types) {
          void session?.then((s) => s.control.setTypes(sub, types)).catch(() => {});
        },
        close() {
          table.remove(sub);
          void session?.then((s) => s.control.unsubscribe(sub)).catch(() => {});
        },
      };
    },
  };
}
