import type { ControlMessage, StoreMembership } from './event-store.js';
import { compareNames } from './names.js';
import { formatPresence } from './sse-format.js';

/** Who reads a topic now, over every server of the store. */
export interface TopicPresence {
  /** The identities with a user, sorted by user (by code point), each with its connections on the topic. */
  members: PresenceMember[];
  /** Connections on the topic without a user. */
  anonymous: number;
}

/** One identity reading a topic. */
export interface PresenceMember {
  user: string;
  /**
   * Its connections on the topic, over every server: one per browser, since a browser's tabs
   * share one connection.
   */
  browsers: number;
}

/** An open connection that asked for the `ssemux:presence` events of its topics. */
export interface PresenceWatcher {
  readonly topics: readonly string[];
  /** The wire text of a presence event of `topic`, to write as it is. */
  send(text: string): void;
}

/** The presence of one server: what it counts itself, and what it hears from the others of its store. */
export interface Presence {
  /**
   * Counts one connection of `user` (undefined: anonymous) on each of `topics`; the function
   * returned takes it back (once).
   */
  count(user: string | undefined, topics: readonly string[]): () => void;
  /** The `ssemux:presence` event of `topic` as it stands, without a change. */
  snapshot(topic: string): string;
  /** Sends `watcher` the change events of its topics until the function returned is called. */
  watch(watcher: PresenceWatcher): () => void;
  /** Presence of `topic` now, every member listed. */
  of(topic: string): TopicPresence;
  /** Resolves once the first exchange with the other servers of the store is over (answered or timed out). */
  synced(): Promise<void>;
  /** This server joined its store's group. */
  joined(membership: StoreMembership): void;
  /** A control message of another server; undefined when it is not about presence. */
  receive(message: ControlMessage): Promise<unknown> | undefined;
  /** A server of the store died without leaving (this one is the one told). */
  memberGone(id: string): void;
  /** This server had been dropped from the group for a while and is listed again. */
  rejoined(): void;
  /** Stops its timers and takes this server's connections back from the others at once. */
  close(): Promise<void>;
}

/** Control messages of presence between the servers of one store. */
const PRESENCE_NOTICE = 'presence';
const PRESENCE_SYNC = 'presence-sync';
const PRESENCE_GONE = 'presence-gone';

/** How a user stands in the maps: the empty string is the anonymous connections (a user name is never empty). */
const ANONYMOUS_KEY = '';

/** `[topic, user key, connections]`: what one server has on a topic for one identity. */
type Entry = [string, string, number];
/** topic → user key → connections. */
type Tally = Map<string, Map<string, number>>;

/**
 * Presence over the servers that share a store. Each server counts its own connections (per
 * topic and identity) and tells the others what changed, in one notice per `batchMs`; on joining
 * (and on being listed again after its lease ran out) it sends what it has whole and asks the
 * others for theirs. The sum over every server is the raw count; what is shown rises with it at
 * once and falls only `graceMs` after its last fall, so that a connection that comes back within
 * the grace (a reconnect, on this server or another) is never seen leaving. A server that dies
 * without leaving is dropped by the one told (`memberGone`), which tells the rest.
 *
 * The change events of a topic are coalesced per `batchMs`: one per topic and window, written
 * once and sent to every watcher of the topic.
 */
export function createPresence(options: {
  graceMs: number;
  batchMs: number;
  maxMembers: number;
  /** How long a sync waits for the others' answers. */
  syncTimeoutMs: number;
  /** After a notice the store could not take, when the whole state is sent again. */
  retryMs: number;
  /** How often the others' counts are checked against the live members, while there are any. */
  reconcileMs: number;
}): Presence {
  const { graceMs, batchMs, maxMembers } = options;
  const local: Tally = new Map();
  const others = new Map<string, Tally>();
  const totals: Tally = new Map();
  const shown: Tally = new Map();
  // When a shown count may fall to its total, by `topic\nuser` key, oldest first (a fall moves it last).
  const drops = new Map<string, number>();
  // Topics with watchers whose shown counts changed in this window: user → count before it.
  const dirty = new Map<string, Map<string, number>>();
  const watchers = new Map<string, Set<PresenceWatcher>>();
  // The start of each watched topic's event (members, anonymous, truncated), until it changes.
  const heads = new Map<string, string>();
  // This server's counts not yet told to the others, by `topic\nuser` key.
  const unsent = new Set<string>();
  // Members whose death this server must still tell the others about.
  const goneToTell = new Set<string>();
  let membership: StoreMembership | null = null;
  let sendFull = false;
  let sending = false;
  let resend = false;
  let dropTimer: ReturnType<typeof setTimeout> | undefined;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let sendTimer: ReturnType<typeof setTimeout> | undefined;
  let reconcileTimer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let markSynced!: () => void;
  const firstSync = new Promise<void>((resolve) => (markSynced = resolve));

  const get = (tally: Tally, topic: string, user: string) => tally.get(topic)?.get(user) ?? 0;
  const put = (tally: Tally, topic: string, user: string, n: number) => {
    let users = tally.get(topic);
    if (n > 0) {
      if (!users) tally.set(topic, (users = new Map()));
      users.set(user, n);
    } else if (users?.delete(user) && users.size === 0) tally.delete(topic);
  };

  const show = (topic: string, user: string, n: number) => {
    const before = get(shown, topic, user);
    if (before === n) return;
    put(shown, topic, user, n);
    heads.delete(topic);
    if (!watchers.has(topic)) return;
    let changed = dirty.get(topic);
    if (!changed) dirty.set(topic, (changed = new Map()));
    if (!changed.has(user)) changed.set(user, before);
    flushTimer ??= setTimeout(flush, batchMs);
  };

  /** The raw count of (topic, user) moved by `delta`: shown at once when it rose, after the grace when it fell. */
  const move = (topic: string, user: string, delta: number) => {
    if (delta === 0) return;
    const total = get(totals, topic, user) + delta;
    put(totals, topic, user, total);
    const key = `${topic}\n${user}`;
    const now = get(shown, topic, user);
    if (total >= now || graceMs === 0) {
      drops.delete(key);
      return show(topic, user, total);
    }
    // A rise that stays below what is shown keeps the deadline of the last fall: postponing it
    // would keep browsers that left on show for as long as others keep coming.
    if (delta > 0 && drops.has(key)) return;
    drops.delete(key);
    drops.set(key, performance.now() + graceMs);
    dropTimer ??= setTimeout(dropDue, graceMs);
  };

  function dropDue(): void {
    dropTimer = undefined;
    const now = performance.now();
    for (const [key, at] of drops) {
      if (at > now) {
        dropTimer = setTimeout(dropDue, Math.max(1, Math.ceil(at - now)));
        return;
      }
      drops.delete(key);
      const [topic, user] = splitKey(key);
      show(topic, user, get(totals, topic, user));
    }
  }

  const head = (topic: string): string => {
    let text = heads.get(topic);
    if (text !== undefined) return text;
    const users = shown.get(topic);
    const names: string[] = [];
    for (const user of users?.keys() ?? []) if (user !== ANONYMOUS_KEY) names.push(user);
    names.sort(compareNames);
    const listed = names.slice(0, maxMembers).map((user) => ({ user, browsers: users!.get(user)! }));
    text = `{"members":${JSON.stringify(listed)},"anonymous":${users?.get(ANONYMOUS_KEY) ?? 0}`;
    if (names.length > maxMembers) text += ',"truncated":true';
    // Kept only for topics someone reads: the map stays as small as `shown`.
    if (users) heads.set(topic, text);
    return text;
  };

  function flush(): void {
    flushTimer = undefined;
    for (const [topic, changed] of dirty) {
      const targets = watchers.get(topic);
      if (!targets) continue;
      const changes: string[] = [];
      for (const [user, before] of changed) {
        const after = get(shown, topic, user);
        if (after !== before) changes.push(`{"user":${user === ANONYMOUS_KEY ? 'null' : JSON.stringify(user)},"browsers":${after}}`);
      }
      if (changes.length === 0) continue;
      // One change is named; several in one window are told by the members alone.
      const text = formatPresence(topic, head(topic) + (changes.length === 1 ? `,"change":${changes[0]}}` : '}'));
      for (const watcher of targets) watcher.send(text);
    }
    dirty.clear();
  }

  /** Sets what member `id` has (whole, or the entries it changed), moving the totals by the difference. */
  const apply = (id: string, entries: readonly Entry[], whole: boolean) => {
    let tally = others.get(id);
    if (!tally) others.set(id, (tally = new Map()));
    if (whole) {
      const next: Tally = new Map();
      for (const [topic, user, n] of entries) put(next, topic, user, n);
      for (const [topic, users] of tally) for (const [user, n] of users) if (!get(next, topic, user)) move(topic, user, -n);
      for (const [topic, users] of next) for (const [user, n] of users) move(topic, user, n - get(tally, topic, user));
      tally = next;
      others.set(id, tally);
    } else {
      for (const [topic, user, n] of entries) {
        move(topic, user, n - get(tally, topic, user));
        put(tally, topic, user, n);
      }
    }
    if (tally.size === 0) others.delete(id);
    if (others.size > 0 && !closed) reconcileTimer ??= setInterval(() => void reconcile(), options.reconcileMs);
    else if (others.size === 0) {
      clearInterval(reconcileTimer);
      reconcileTimer = undefined;
    }
  };

  /** Drops the counts of servers that are no longer members (dead, and their death never told here). */
  const reconcile = async () => {
    const joined = membership;
    if (!joined) return;
    let live: Set<string>;
    try {
      live = new Set(await joined.members());
    } catch {
      return; // the store is away: next time
    }
    for (const id of [...others.keys()]) if (!live.has(id)) apply(id, [], true);
  };

  const entryOf = (key: string): Entry => {
    const [topic, user] = splitKey(key);
    return [topic, user, get(local, topic, user)];
  };
  const localEntries = (): Entry[] => {
    const entries: Entry[] = [];
    for (const [topic, users] of local) for (const [user, n] of users) entries.push([topic, user, n]);
    return entries;
  };

  /**
   * Tells the others what changed here (or everything, after a notice that failed). One send at
   * a time, each notice built right before it goes: the counts are absolute, so they must arrive
   * in the order they were read.
   */
  const send = async (): Promise<void> => {
    sendTimer = undefined;
    if (sending) return void (resend = true);
    sending = true;
    let gone: string[] = [];
    try {
      do {
        resend = false;
        const joined = membership;
        if (!joined || closed) return;
        gone = [...goneToTell];
        goneToTell.clear();
        for (const id of gone) await joined.notify({ type: PRESENCE_GONE, member: id });
        gone = [];
        const whole = sendFull;
        sendFull = false;
        const entries: Entry[] = whole ? localEntries() : [];
        if (!whole) for (const key of unsent) entries.push(entryOf(key));
        unsent.clear();
        if (whole || entries.length > 0) await joined.notify({ type: PRESENCE_NOTICE, member: joined.id, whole, entries });
      } while (resend);
    } catch {
      // The store did not take it: everything again, a little later.
      for (const id of gone) goneToTell.add(id);
      sendFull = true;
      if (!closed) sendTimer ??= setTimeout(() => void send(), options.retryMs);
    } finally {
      sending = false;
    }
  };
  const sendSoon = () => {
    sendTimer ??= setTimeout(() => void send(), batchMs);
  };

  const sync = async (joined: StoreMembership) => {
    try {
      await joined.broadcast({ type: PRESENCE_SYNC }, options.syncTimeoutMs);
    } catch {
      // Unanswered: the others' notices fill the view in as they come.
    }
    markSynced();
  };

  return {
    count(user, topics) {
      const key = user ?? ANONYMOUS_KEY;
      const change = (delta: number) => {
        for (const topic of topics) {
          put(local, topic, key, get(local, topic, key) + delta);
          move(topic, key, delta);
          if (membership) unsent.add(`${topic}\n${key}`);
        }
        if (membership) sendSoon();
      };
      change(1);
      let counted = true;
      return () => {
        if (!counted || closed) return;
        counted = false;
        change(-1);
      };
    },

    snapshot(topic) {
      return formatPresence(topic, `${head(topic)}}`);
    },

    watch(watcher) {
      for (const topic of watcher.topics) {
        let set = watchers.get(topic);
        if (!set) watchers.set(topic, (set = new Set()));
        set.add(watcher);
      }
      return () => {
        for (const topic of watcher.topics) {
          const set = watchers.get(topic);
          if (set?.delete(watcher) && set.size === 0) {
            watchers.delete(topic);
            dirty.delete(topic);
          }
        }
      };
    },

    of(topic) {
      const users = shown.get(topic);
      const members: PresenceMember[] = [];
      for (const [user, browsers] of users ?? []) if (user !== ANONYMOUS_KEY) members.push({ user, browsers });
      members.sort((a, b) => compareNames(a.user, b.user));
      return { members, anonymous: users?.get(ANONYMOUS_KEY) ?? 0 };
    },

    synced: () => firstSync,

    joined(joinedAs) {
      membership = joinedAs;
      if (local.size > 0) {
        sendFull = true;
        void send();
      }
      void sync(joinedAs);
    },

    receive(message) {
      if (closed) return message.type.startsWith(PRESENCE_NOTICE) ? Promise.resolve(null) : undefined;
      if (message.type === PRESENCE_SYNC) {
        // Everything this server has, told before the answer: the asker counts it when it counts the answers.
        const joined = membership;
        if (!joined || closed) return Promise.resolve(null);
        return joined.notify({ type: PRESENCE_NOTICE, member: joined.id, whole: true, entries: localEntries() }).then(
          () => true,
          () => null,
        );
      }
      if (message.type === PRESENCE_GONE) {
        const id = message.member;
        if (typeof id !== 'string') return Promise.resolve(null);
        if (id === membership?.id) {
          // Taken for dead while alive (cut off for longer than the lease): say it all again.
          sendFull = true;
          void send();
        } else apply(id, [], true);
        return Promise.resolve(null);
      }
      if (message.type !== PRESENCE_NOTICE) return undefined;
      const { member, whole, entries } = message as { member?: unknown; whole?: unknown; entries?: unknown };
      if (typeof member !== 'string' || member === membership?.id || !Array.isArray(entries)) return Promise.resolve(null);
      apply(member, entries.filter(isEntry), whole === true);
      return Promise.resolve(null);
    },

    memberGone(id) {
      if (closed) return;
      apply(id, [], true);
      goneToTell.add(id);
      sendSoon();
    },

    rejoined() {
      if (closed) return;
      sendFull = true;
      void send();
      if (membership) void sync(membership);
    },

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(dropTimer);
      clearTimeout(flushTimer);
      clearTimeout(sendTimer);
      clearInterval(reconcileTimer);
      watchers.clear();
      dirty.clear();
      drops.clear();
      const joined = membership;
      membership = null;
      // Taken back at once: the others hold the counts for their grace while clients reconnect elsewhere.
      if (joined && local.size > 0) await joined.notify({ type: PRESENCE_NOTICE, member: joined.id, whole: true, entries: [] }).catch(() => {});
      local.clear();
    },
  };
}

/** A `topic\nuser` key in its parts: a topic has no control character, so its first LF ends it. */
function splitKey(key: string): [topic: string, user: string] {
  const split = key.indexOf('\n');
  return [key.slice(0, split), key.slice(split + 1)];
}

function isEntry(value: unknown): value is Entry {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'string' &&
    Number.isInteger(value[2]) &&
    (value[2] as number) >= 0
  );
}
