import { backoffDelay, clampDelay } from '../protocol/delays.js';
import { EARLY_HANDOVER_MS, MAX_ONE_RAN } from '../protocol/limits.js';
import { RealtimeError, toStatusError } from '../protocol/errors.js';
import { randomId } from '../protocol/random-id.js';
import { isStart, START, type ConnectionStatus, type Filter, type Position, type StreamSpec, type TabCount } from '../protocol/stream.js';
import type { EventsFrame } from '../protocol/tab-hub-messages.js';
import type { EventMap, PresenceData, RealtimeClientOptions, RealtimeMessage, RealtimeStatus, StatusError, WireEvent } from '../protocol/types.js';
import type { Link, LinkSubscription } from '../sharing/link.js';
import { createTabContext, type TabContext } from '../sharing/tab-context.js';
import { openEarlyStream, type EarlyStream } from './early-stream.js';
import { checkTopics, resolveOptions } from './resolve-options.js';
import { workerChoice, type LinkChoice } from './sharing-order.js';

/** A listener of one event type, or of every type with `'*'`. */
export type Listener<T = unknown, K extends string = string> = (message: RealtimeMessage<T, K>) => void;

/** Options of {@link RealtimeClient.on}. */
export interface ListenOptions {
  /** Aborting it stops this listener, as calling the function `on` returned does. */
  signal?: AbortSignal;
  /**
   * `'one'`: each event runs this listener in exactly one tab of the origin, among the tabs that
   * listen with `tabs: 'one'` to its type: a visible tab that had focus last, where there is one
   * (for notifications, sounds, writes: what must happen once, not once per tab). `'all'`: in
   * every tab. See the README for what holds when that tab closes or crashes.
   * @default 'all'
   */
  tabs?: 'all' | 'one';
  /**
   * Also called at once with the last event of its type the stream carried (`msg.latest` true),
   * if the hub kept one, then with live events: a new tab shows the current value without
   * waiting for the next event.
   */
  latest?: boolean;
}

/** What {@link createRealtimeClient} returns. */
// The default is `any` so that a client of any event map is a `RealtimeClient` (a context's type,
// a helper's parameter); a client made without a map still hears `unknown` data (see below).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface RealtimeClient<E extends EventMap = any> {
  /** Listens to one event type; returns the function that stops listening. */
  on<K extends keyof E & string>(type: K, listener: Listener<E[K], K>, options?: ListenOptions): () => void;
  /**
   * Listens to every event. With the native `eventsource` transport, "every" means `message` and
   * the types some listener named: the platform reports no other.
   */
  on(type: '*', listener: Listener<E[keyof E], keyof E & string>, options?: ListenOptions): () => void;
  /** Listens to who reads the client's topics (see the README's "Who is here"); never heard by `'*'`. */
  on(type: 'ssemux:presence', listener: Listener<PresenceData, 'ssemux:presence'>, options?: ListenOptions): () => void;
  /** The current status; `lastEventId` is current whenever read. */
  readonly status: RealtimeStatus;
  /** Called on every change of state, transport, sharing, attempt or error; returns the unsubscribe function. */
  onStatus(listener: (status: RealtimeStatus) => void): () => void;
  /**
   * The tabs attached to this client's stream (in this browser): how many, and how many are
   * visible. `{ count: 0, visible: 0 }` until the hub says.
   */
  readonly tabs: TabCount;
  /** Called whenever {@link RealtimeClient.tabs} changes; returns the unsubscribe function. */
  onTabs(listener: (tabs: TabCount) => void): () => void;
  /**
   * Replaces this client's topics (a client created with `topics`): events of topics it drops stop
   * at once; topics it adds are read from now, with at most one reconnect of the shared upstream
   * per short window, which loses and repeats nothing of the topics that stay.
   */
  setTopics(topics: readonly string[]): void;
  /** Stops the stream for this client at once; other tabs sharing it are not affected. */
  close(): void;
}

/** The page's links to hubs, shared by every client of the page: made on first use. */
let page: TabContext | undefined;

/**
 * Opens a realtime stream shared by every tab of the origin (see {@link RealtimeClientOptions}).
 * Throws a `RealtimeError` with code `invalid-options` when an option cannot be used.
 */
export function createRealtimeClient<E extends EventMap = Record<string, unknown>>(options: RealtimeClientOptions): RealtimeClient<E> {
  return createClient<E>(options, (page ??= createTabContext()));
}

/** {@link createRealtimeClient} in the page `context` (a test's own page). */
export function createClient<E extends EventMap = Record<string, unknown>>(options: RealtimeClientOptions, context: TabContext): RealtimeClient<E> {
  const o = resolveOptions(options);
  const { stream, parse: p, log, signal } = o;
  const url = stream.url;
  const first = o.inert ? undefined : workerChoice(o, context);
  /** The sharing modes to try, in order; the SharedWorker or nothing until the fallbacks load. */
  const links: LinkChoice[] = first ? [first] : [];
  /** The fallback modes (./fallback-order.ts) are still to be loaded. */
  let fallbacks = !o.inert;
  const parse = p === 'json' ? (text: string) => JSON.parse(text) as unknown : p === 'text' ? (text: string) => text : p;
  // Only a client with headers needs the credentials code: a chunk, loaded while it starts.
  const credentials =
    o.headers &&
    import('./credentials.js').then((m) => m.createCredentials(o.headers!, stream.headersTimeoutMs, (n) => clampDelay(backoffDelay(n, stream.backoff)), o.credentialsKey));
  /** By type: each listener and how it listens. */
  const listeners = new Map<string, Set<Registration>>();
  const statusListeners = new Set<(status: RealtimeStatus) => void>();
  const tabsListeners = new Set<(tabs: TabCount) => void>();
  let tabs: TabCount = { count: 0, visible: 0 };
  /** Through where the stream's `tabs: 'one'` listeners have run, as the hub last said; the ids of those run here since. */
  let oneDone: Position | undefined;
  /** Topics it was still catching up on, as the hub last said. */
  let joining: Record<string, Position> | undefined;
  let ran: string[] = [];
  /** One-events handed to this tab, waiting for the hub's go. */
  let held: { seq: number; event: WireEvent }[] = [];
  /** The number of the one-event whose listeners run now (see `update`). */
  let runningOne: number | undefined;
  /** Listeners added so far: each registration's number, so that one added during a dispatch misses that event. */
  let added = 0;
  let topics = o.topics;
  let linkIndex = 0;
  let subscription: LinkSubscription | undefined;
  let spec: StreamSpec;
  /** Where this client stands in its stream: it resubscribes from here, wherever the hub is. */
  let position: Position = START;
  let closed = false;
  /**
   * The first tab's own stream, while its worker starts (./early-stream.ts): the worker's frames
   * are not read meanwhile; its first events, its upstream's opening, or trouble, end it (`handOver`).
   */
  let early: { stream: EarlyStream; link: Link; offPage: (() => void)[]; timer?: ReturnType<typeof setTimeout> } | undefined;
  /** The worker's last status while the tab's own stream answers for it. */
  let heldStatus: ConnectionStatus | undefined;
  /** The client said open over the tab's own stream (at its first event): the worker's `connecting` is not news until its upstream opens. */
  let openedEarly = false;
  /** Bumped by every (re)subscription and by close(): a link that loads late is not used then. */
  let attempt = 0;
  /** Why sharing and transport are not those asked for: set by this client, and by the engine. */
  let sharingReason: string | undefined;
  let transportReason: string | undefined;
  // Until the hub says which transport it uses: the first it will try, in a browser of today. And
  // until the fallback modes load, the mode asked for.
  let status = {
    state: 'connecting',
    transport: stream.transport === 'auto' ? 'fetch' : stream.transport,
    sharing: first ? 'shared-worker' : o.sharing === 'auto' || o.inert ? 'none' : o.sharing,
    reason: 'started',
    attempt: 0,
    lastEventId: '',
  } as RealtimeStatus;

  /** `next` replaces the status (`lastEventId` and the reasons are the client's). */
  function setStatus(next: RealtimeStatus): void {
    const reason = [sharingReason, transportReason].filter(Boolean).join('; ');
    status = { ...next, lastEventId: position.id };
    delete status.fallbackReason;
    if (reason) status.fallbackReason = reason;
    if (next.error) status.error = { name: 'RealtimeError', ...next.error };
    // The status itself follows: its error names the URL and the server's answer, retryInMs the wait.
    log?.(`${status.state} ${status.sharing}/${status.transport} ${status.error?.message ?? ''}`, status);
    for (const listener of [...statusListeners]) guarded(listener, status);
  }

  function fromLink(s: ConnectionStatus): void {
    if (closed) return;
    if (early) {
      if (!s.error && s.state === 'connecting') return void (heldStatus = s);
      // The worker's upstream is open: a tab that read events by itself waits for the worker's
      // first ones (its hub then keeps the tab's last, as a rule), on a quiet stream not for long.
      if (!s.error && s.state === 'open' && !isStart(position)) {
        heldStatus = s;
        early.timer ??= setTimeout(handOver, EARLY_HANDOVER_MS);
        return;
      }
      // A hub gone: the link brings the subscription to the next one, from where the tab got to.
      if (s.reason === 'hub-lost') endEarly();
      else handOver();
    }
    if (openedEarly && s.state === 'connecting' && !s.error) return;
    openedEarly = false;
    // What the hub that is gone handed out and did not say go for, the next one hands out.
    if (s.reason === 'hub-lost') held = [];
    transportReason = s.fallbackReason;
    setStatus({ ...s, sharing: links[linkIndex]!.sharing });
  }

  function filter(): Filter {
    const types = [...listeners.keys()];
    const one = types.filter((t) => [...listeners.get(t)!].some((r) => r.one));
    // Every type a listener asked `latest` for, not only those still waiting: a new hub (after a
    // worker restart) keeps the last event of a type only if someone asks it to.
    const latest = types.filter((t) => [...listeners.get(t)!].some((r) => r.latest));
    return { types, ...(topics && { topics }), ...(one.length && { one }), ...(latest.length && { latest }) };
  }

  /** Calls the listeners of `events` that `pick` picks (the type's, then '*'), parsing each event once. */
  function call(events: WireEvent[], pick: (r: Registration) => boolean | undefined, latest?: true): void {
    const every = listeners.get('*');
    /** Listeners that heard a last event here (a frame's last events only: none on the live path). */
    const told = latest && new Set<Registration>();
    for (const event of events) {
      // As EventTarget does: a listener added while this event is dispatched hears the next one.
      const newest = added;
      // An event whose type is '*' goes to the '*' listeners once; presence (wire.ts's
      // PRESENCE_EVENT, written out: importing that module would move it into this bundle) only
      // to the listeners that name it.
      const own = event.type === '*' ? undefined : listeners.get(event.type);
      const all = event.type === 'ssemux:presence' ? undefined : every;
      if (!own && !all) continue;
      let data: unknown;
      try {
        data = parse(event.data, event.type);
      } catch (error) {
        const hint = p === 'json' ? ` (for text data, set parse: 'text')` : '';
        setStatus({ ...status, reason: 'reported', error: { code: 'parse', message: `Event ${event.id || event.type} from ${url}: ${toStatusError(error).message}${hint}` } });
        continue;
      }
      const message: RealtimeMessage = { type: event.type, data, text: event.data, lastEventId: event.id };
      if (event.topic !== undefined) message.topic = event.topic;
      if (latest) message.latest = latest;
      for (const set of [own, all]) {
        for (const r of set ?? []) {
          // A listener may close the client: nothing reaches the others after that.
          if (closed) return;
          if (r.seq > newest || !pick(r)) continue;
          // What a listener heard as the last event may come again live (a tab that came back
          // behind it catches up through it): it hears it once. Ids name a stream's events.
          // (Presence is no event of the stream: it carries the stream's id, not one of its own.)
          if (latest) {
            if (event.id && event.type !== 'ssemux:presence') (r.heard ??= new Set()).add(event.id);
            told!.add(r);
          } else if (event.type !== 'ssemux:presence' && r.heard?.delete(event.id)) {
            continue;
          } else {
            // A listener that waits for the last event is past it once it heard a live one.
            r.fresh = undefined;
          }
          guarded(r.fn, message);
        }
      }
    }
    if (told) for (const r of told) r.fresh = undefined;
  }

  /**
   * The last events of a frame a listener may still wait for: none of a type (and topic) the frame
   * also brings live as other events (told first, the listener would end on an older one). The
   * same event live, as a tab catching up brings it, is told as the last one and not again.
   */
  const lastOf = (frame: EventsFrame) => frame.latest!.filter((last) => !frame.events.some((e) => e.type === last.type && e.topic === last.topic && e.id !== last.id));

  // The per-event path on the tab side: the last events asked for, the events, then those this
  // tab runs its `tabs: 'one'` listeners for.
  function deliver(frame: EventsFrame): void {
    if (closed) return;
    if (early && (frame.events.length === 0 || !handOver())) {
      // Its events come again from the subscription that takes over; the last events asked for do not.
      if (frame.latest) call(lastOf(frame), (r) => r.fresh, true);
      return;
    }
    if (frame.latest) call(lastOf(frame), (r) => r.fresh, true);
    call(frame.events, (r) => !r.one);
    if (closed) return;
    position = frame.at;
    oneDone = frame.oneDone ?? oneDone;
    joining = frame.joining;
    // One-events wait for the hub's go: the hub that handed them may be gone by the time this tab
    // gets to them (its task was long), and then the next hub hands them out instead.
    if (frame.one) {
      held.push(...frame.one.map((event, i) => ({ seq: frame.oneSeq! + i, event })));
      subscription?.claim(held.at(-1)!.seq);
    }
    const go = frame.oneGo;
    if (go === undefined) return;
    const run = held.filter((h) => h.seq <= go);
    held = held.filter((h) => h.seq > go);
    for (const { seq, event } of run) {
      runningOne = seq;
      ran = [...ran, event.id].slice(-MAX_ONE_RAN);
      call([event], (r) => r.one);
      runningOne = undefined;
      // Closed by a listener: what is left goes to another tab (close() said what ran).
      if (closed) return;
    }
    subscription?.ran(go);
  }

  /**
   * Tells the hub what this tab listens to now. A listener that changes that while it runs a
   * one-event (a once listener removing itself, one closing its client) says first that the
   * event ran: the hub, seeing the tab stop listening, would hand it to another tab.
   */
  function update(): void {
    if (runningOne !== undefined) subscription?.ran(runningOne);
    subscription?.update(filter());
  }

  /** The sharing mode at `index` of the order, loading the fallback modes when it gets to them. */
  async function choice(index: number): Promise<LinkChoice | undefined> {
    if (!links[index] && fallbacks) {
      fallbacks = false;
      links.push(...(await import('./fallback-order.js')).fallbackOrder(o, context));
    }
    return links[index];
  }

  function subscribe(): void {
    const mine = ++attempt;
    // A chunk that does not load (offline, a strict CSP) is as if the mode were not there.
    choice(linkIndex)
      .then((c) => {
        if (mine !== attempt || closed) return;
        if (linkIndex === 0 && c!.reason && !sharingReason) {
          // The first mode is a fallback: which, and why.
          sharingReason = c!.reason;
          log?.(`sharing ${c!.sharing}: ${sharingReason}`);
          setStatus({ ...status, reason: 'fell-back', sharing: c!.sharing });
        }
        use(c!.create(spec), mine);
      })
      .catch((error: unknown) => mine === attempt && lost(toStatusError(error, 'sharing-unavailable')));
  }

  function lost(error: StatusError): void {
    subscription = undefined;
    // The next mode subscribes from where this tab got to.
    endEarly();
    if (closed) return;
    const mine = ++attempt;
    void choice(linkIndex + 1).then(
      (next) => {
        if (mine !== attempt || closed) return;
        if (!next) return setStatus({ ...status, state: 'closed', reason: 'refused', error });
        linkIndex++;
        // Every mode passed over says why: the reason for this one, after those before it.
        sharingReason = [sharingReason, error.message].filter(Boolean).join('; ');
        setStatus({ ...status, state: 'connecting', reason: 'fell-back', sharing: next.sharing, error });
        subscribe();
      },
      () => mine === attempt && setStatus({ ...status, state: 'closed', reason: 'refused', error }),
    );
  }

  function use(link: Link, mine: number): void {
    if (mine !== attempt || closed) return;
    subscription = link.subscribe({
      spec,
      filter,
      position: () => position,
      ...(typeof o.headers === 'function' && {
        headers: async () =>
          (await credentials!).forHub(spec.credentialsKey, (credentialsKey) => {
            // Another user signed in here: this client moves to the stream of their credentials,
            // from where that stream stands: nothing of the other user's stream goes with it.
            subscription?.close();
            subscription = undefined;
            spec = { ...spec, credentialsKey };
            position = START;
            oneDone = joining = undefined;
            ran = [];
            held = [];
            subscribe();
          }),
      }),
      oneDone: () => ({ ...(oneDone && { done: oneDone }), ran }),
      joining: () => joining,
      onFrame: deliver,
      onStatus: fromLink,
      onTabs(next) {
        tabs = next;
        for (const listener of [...tabsListeners]) guarded(listener, tabs);
      },
      onLost: lost,
    });
  }

  /**
   * The first tab of an origin reads its stream itself while its worker starts (see
   * {@link RealtimeClientOptions.earlyStream}), its subscription there already on its way.
   */
  async function readEarly(link: Link): Promise<void> {
    if (!link.alone || !(await link.alone()) || closed || !subscription || !earlyReadable()) return;
    // The worker answered first (its upstream is open, or its events came): nothing to read early.
    if (status.state === 'open' || !isStart(position)) return;
    const lineage = randomId();
    const own = openEarlyStream(url, stream.withCredentials, listeners.keys(), {
      event(event) {
        // A stream without ids has no place to take over from: the worker's subscription, from
        // where its upstream started, is all there is. One too large: the worker drops and reports it.
        if (event.id === '' || event.data.length > stream.maxEventSize) return void handOver();
        // Open at its first event, not at the EventSource's open: a tab that has read nothing has
        // no place to hand over from and leaves the stream to the worker's upstream, which misses
        // what was published before it opened, even what this EventSource holds undispatched. A
        // client that said open sooner would lose events published after it said so.
        if (!openedEarly) {
          openedEarly = true;
          setStatus({ ...status, state: 'open', transport: 'eventsource', reason: 'opened' });
        }
        call([event], (r) => !r.one);
        position = { id: event.id, count: position.count + 1, lineage };
      },
      failed() {
        openedEarly = false;
        handOver();
      },
    });
    // A page that leaves (or freezes) reads nothing: its link comes back from where the tab got to.
    early = { stream: own, link, offPage: [context.onPage('pagehide', endEarly), context.onPage('freeze', endEarly)] };
  }

  /** Closes the tab's own stream, if it is open; returns the link it was reading early for. */
  function endEarly(): Link | undefined {
    const link = early?.link;
    early?.stream.close();
    early?.offPage.forEach((off) => off());
    clearTimeout(early?.timer);
    early = heldStatus = undefined;
    return link;
  }

  /**
   * Ends the tab's own stream: the subscription at the worker goes on, or, when the tab read events
   * by itself, a new one takes over from the last of them, which the hub places against its
   * upstream: from the events it keeps (the worker's first events came after the tab's last, as a
   * rule), else going back for them. Returns whether the first one goes on.
   */
  function handOver(): boolean {
    const held = heldStatus;
    const link = endEarly();
    if (isStart(position) || !subscription || !link) {
      if (held) fromLink(held);
      return true;
    }
    const old = subscription;
    use(link, ++attempt);
    old.close();
    return false;
  }

  /** Every listener can be served by the platform's EventSource, which names no type it was not asked for. */
  const earlyReadable = () => listeners.size > 0 && !listeners.has('*') && ![...listeners.values()].some((set) => [...set].some((r) => r.one));

  async function start(): Promise<void> {
    const c = await credentials;
    // The first answer names the credentials and serves the first request; until it comes, the
    // client says why it waits.
    const credentialsKey = c ? await c.key((n, retryInMs, error) => closed || setStatus({ ...status, state: 'reconnecting', reason: 'failed', attempt: n, retryInMs, error })) : (o.credentialsKey ?? '');
    if (closed) return;
    spec = { ...stream, credentialsKey, topics: !!topics, ...(c?.fixed && { headers: c.fixed }) };
    subscribe();
    if (first && o.earlyStream && !o.headers && !topics && stream.transport === 'auto' && stream.method === 'GET' && typeof EventSource === 'function') {
      await readEarly(first.create(spec));
    }
  }

  function close(): void {
    if (closed) return;
    closed = true;
    attempt++;
    endEarly();
    signal?.removeEventListener('abort', close);
    void credentials?.then((c) => c.stop());
    if (runningOne !== undefined) subscription?.ran(runningOne);
    subscription?.close();
    subscription = undefined;
    const { error: _error, retryInMs: _retry, ...rest } = status;
    setStatus({ ...rest, state: 'closed', reason: 'closed' });
  }

  if (signal?.aborted) close();
  else if (!o.inert) {
    signal?.addEventListener('abort', close);
    start().catch((error) => closed || setStatus({ ...status, state: 'closed', reason: 'refused', error: toStatusError(error) }));
  }

  return {
    on(type: string, listener: Listener<never, never>, { signal: stop, tabs: which, latest }: ListenOptions = {}) {
      if (stop?.aborted) return () => {};
      const r: Registration = { fn: listener as Listener, one: which === 'one', seq: ++added, ...(latest && { fresh: true, latest: true }) };
      const off = () => {
        stop?.removeEventListener('abort', off);
        if (!set.delete(r)) return;
        if (set.size === 0 && listeners.get(type) === set) listeners.delete(type);
        if (set.size === 0 || r.one) update();
      };
      let set = listeners.get(type)!;
      if (!set) listeners.set(type, (set = new Set()));
      set.add(r);
      early?.stream.listen(type);
      if (early && !earlyReadable()) handOver();
      // The hub hears of a new type, and of a listener that needs it.
      if (set.size === 1 || r.one || r.fresh) update();
      stop?.addEventListener('abort', off);
      return off;
    },
    get status() {
      if (status.lastEventId !== position.id) status = { ...status, lastEventId: position.id };
      return status;
    },
    setTopics(next: readonly string[]) {
      if (!topics) throw new RealtimeError('invalid-options', 'ssemux: setTopics needs the topics option');
      topics = checkTopics(next, 'setTopics');
      update();
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    get tabs() {
      return tabs;
    },
    onTabs(listener) {
      tabsListeners.add(listener);
      return () => void tabsListeners.delete(listener);
    },
    close,
  } as RealtimeClient<E>;
}

/** A listener, and how it listens (see {@link ListenOptions}). */
interface Registration {
  fn: Listener;
  /** Run for the events the hub hands this tab's `tabs: 'one'` listeners, and no other. */
  one: boolean;
  /** Its number among the client's listeners, in the order they were added. */
  seq: number;
  /** It asked for the last event of its type (`latest: true`). */
  latest?: true;
  /** It waits for the last event of its type (`latest: true`) and has heard none yet. */
  fresh?: true | undefined;
  /** Ids of the last events it heard as such, until they come live, if they do. */
  heard?: Set<string>;
}

/** Calls `fn`; what it throws goes to `reportError` and does not stop the caller's loop. */
function guarded<T>(fn: (value: T) => void, value: T): void {
  try {
    fn(value);
  } catch (error) {
    const g = globalThis as { reportError?: (error: unknown) => void };
    if (g.reportError) g.reportError(error);
    else setTimeout(() => { throw error; });
  }
}
