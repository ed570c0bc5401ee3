/**
 * Drops events a tab already delivered when a new upstream replays them. After a resubscription
 * (a worker restart, a leader takeover, a fallback to another sharing mode) the stream resumes
 * from one tab's last event id, which may be older than this tab's: for a while, an event whose
 * id is among the last ones delivered is a replay. Ids are opaque, so membership, not order,
 * is the test.
 */
export function createReplayGuard(size = 1024, windowMs = 10_000, now: () => number = Date.now) {
  const recent = new Array<string>(size).fill('');
  let at = 0;
  let lastId = '';
  let replayed: Set<string> | undefined;
  let until = 0;
  let incomingId = '';
  let dropping = false;

  return {
    /** A resubscription happened: guard for the next `windowMs`. */
    arm(): void {
      replayed = new Set(recent);
      replayed.delete('');
      until = now() + windowMs;
      // With an id on every event (what resuming needs), even the last id seen again is a replay.
      incomingId = '';
      dropping = false;
    },
    /** True when the event with `id` is a replay to drop; otherwise it is remembered. Hot path. */
    isReplay(id: string): boolean {
      if (replayed) {
        if (now() > until) replayed = undefined;
        else if (id !== incomingId) {
          // Events without an id field inherit the previous one: they share its fate.
          incomingId = id;
          dropping = id !== '' && replayed.has(id);
        }
        if (dropping && replayed) return true;
      }
      if (id !== lastId) {
        recent[at++ % size] = lastId = id;
        // While guarding, two sources may overlap (the old leader's last batch, the new one's
        // catch-up): what passes now is a replay later too.
        replayed?.add(id);
      }
      return false;
    },
  };
}
