/**
 * Every fixed limit and timing of the browser half: not options, but documented (README) and
 * named here once. Constants rather than one object, so that the minifier inlines them and a
 * bundle carries only those its code uses.
 */

// ---- A connection (src/engine) ----------------------------------------------------------------

/** A connection must stay open this long before the attempt count resets. */
export const STABLE_AFTER_MS = 5_000;
/** Fewest milliseconds between two requests after a clean end or an empty long-poll answer. */
export const MIN_RETRY_MS = 1_000;
/** A remembered downgrade to long-poll is tried again after this (10 min). */
export const DOWNGRADE_TTL_MS = 600_000;
/** A server that promises a prelude must send its first body byte within this. */
export const PRELUDE_TIMEOUT_MS = 5_000;
/** A long-poll request that has not answered by then is dead (servers hold one about 25 s). */
export const LONG_POLL_TIMEOUT_MS = 35_000;
/** Past this many characters of `responseText`, an XHR stream is recycled, so memory stays bounded. */
export const XHR_RECYCLE_CHARS = 4 * 1024 * 1024;

// ---- A hub (src/hub) ---------------------------------------------------------------------------

/**
 * An upstream whose last subscriber left with its page (a reload, the back/forward cache) closes
 * after this, so the page coming back finds it open. `close()` never waits.
 */
export const GRACE_MS = 3_000;
/** Characters of recent events a shared hub keeps per stream for tabs that come back behind it (1 MiB). */
export const CATCH_UP_CHARS = 1024 * 1024;
/** What the catch-up memory counts per event beyond its characters: its entry's bookkeeping. */
export const CATCH_UP_ENTRY_CHARS = 32;
/** A subscriber placed by an id the stream cannot order waits this many events for it, then is told of a gap. */
export const PLACE_BY_ID_EVENTS = 10_000;
/** Characters of last events a hub keeps per stream for `latest: true` listeners (256 KiB): one per type and topic. */
export const LATEST_CHARS = 256 * 1024;
/** Types per stream whose last event a hub keeps, at most. */
export const LATEST_TYPES = 1_000;
/**
 * One-events (`tabs: 'one'`) whose tab left before running them, and that no other tab takes yet,
 * kept per stream for the next tab that listens, at most.
 */
export const ORPHAN_ONE_EVENTS = 1_000;
/** Ids of the one-events a tab ran that it tells a new hub, at most (the last ones). */
export const MAX_ONE_RAN = 64;
/**
 * A hub that takes over from one that died (a worker restart, a leader takeover) hands out no
 * one-event for this long after the first tab brings where they were done: the other tabs of the
 * dead hub come back meanwhile and say which they ran since (the one running them may be ahead of
 * what the others heard). A loaded machine took a few hundred milliseconds.
 */
export const ONE_TAKEOVER_HOLD_MS = 1_000;
/** Changes of a topic stream's topics within this window are applied with one reconnect. */
export const TOPICS_DEBOUNCE_MS = 50;
/**
 * Topics a subscription dropped whose last position the hub keeps, at most, until its tab has
 * read past it (the most recent ones: a topic taken again at once is the case it is for).
 */
export const MAX_DROPPED_TOPICS = 32;
/** A headers provider that has not answered by then is not waited for alone: the next tab is asked too. */
export const HEADERS_STAGGER_MS = 1_500;
/**
 * A SharedWorker's next flush begins no sooner than this many times as long as its last flush
 * took (its messages to the tabs, mostly) after that one began, up to {@link MAX_FLUSH_GAP_MS}:
 * flushing takes at most half of its time. A message to another process costs tens of
 * microseconds however small, so a busy stream (or a busy machine), whose flushes cost more,
 * costs each tab fewer, bigger messages, and a quiet one is flushed after every read.
 */
export const FLUSH_COST_FACTOR = 1;
export const MAX_FLUSH_GAP_MS = 8;

// ---- Tabs and hubs noticing each other (src/sharing) -------------------------------------------

/** Without Web Locks (plain-http origins), a hub pings each tab this often. */
export const PING_MS = 5_000;
/**
 * Pings in a row a tab may leave unanswered before its hub lets it go; a tab that hears none for
 * this many intervals takes its hub as dead.
 */
export const MISSED_PINGS = 3;
/** A worker that has not welcomed a tab by then has its URL looked at: a wrong URL never answers. */
export const WORKER_CHECK_MS = 500;
/** A worker that has not welcomed a tab by then is taken as failed (a busy machine starts one slowly). */
export const WORKER_ATTACH_TIMEOUT_MS = 10_000;
/**
 * After a worker died, a new one that has not welcomed the tab by then is made anew (until
 * {@link WORKER_ATTACH_TIMEOUT_MS} after the death): Firefox attaches a SharedWorker made while the
 * dead one is torn down to that one, which never answers; one made a little later starts afresh.
 */
export const WORKER_REATTACH_MS = 1_000;
/** More worker deaths than this within {@link WORKER_DEATH_WINDOW_MS} and the tab gives up on the worker. */
export const MAX_WORKER_DEATHS = 3;
export const WORKER_DEATH_WINDOW_MS = 30_000;
/**
 * A first tab reads its stream itself (earlyStream) when Web Locks show no worker running, or when
 * neither they nor a worker have answered by then: a running worker welcomes a tab in 5–10 ms,
 * while the first query of a page takes 4–20 ms (20–40 ms where the origin holds no lock yet), and
 * waiting for it would cost the first tab most of what reading early saves. A wrong guess costs
 * one request, closed as soon as the worker answers.
 */
export const FIRST_TAB_GUESS_MS = 15;
/**
 * A first tab that read events by itself hands over to its worker at the worker's first events,
 * or this long after the worker's upstream opened (a quiet stream), whichever comes first: later,
 * the tab would hold a second connection; sooner, the worker's hub keeps none of the tab's events
 * yet, and its upstream goes back for them (one more request).
 */
export const EARLY_HANDOVER_MS = 1_000;

// ---- A client (src/client) ---------------------------------------------------------------------

/** The headers provider's answer at start-up (which named the credentials) serves a hub that asks this soon. */
export const KEPT_HEADERS_MS = 10_000;
