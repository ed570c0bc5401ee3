/** A hub of the random models (hub-*model.test.ts) and the model server its upstream reads. */
import type { HubOptions } from '../../src/hub/hub.js';
import { setup } from './hub-helpers.js';

/** An event of the model server's log: its id, and on a topic stream its topic. */
export type LogEntry = string | { id: string; topic: string };

const idOf = (entry: LogEntry) => (typeof entry === 'string' ? entry : entry.id);

/**
 * A hub whose upstream reads the model server's `log`, as the ssemux server serves it: after its
 * Last-Event-ID, or from now (a topic stream first gets the prelude's id), and on a topic stream
 * only the topics it asked for. `read()` hands the hub the next event; `reconnected()` follows
 * the upstream to where the hub last sent it (call it after anything that may restart it).
 */
export function modelHub(log: readonly LogEntry[], options: Omit<HubOptions, 'connect' | 'schedule' | 'lineage'> = {}, lineagePrefix?: string, type = 'message') {
  const made = setup(options, lineagePrefix);
  let cursor = 0;
  let restarts = -1;
  let connection: unknown;
  /** The topics asked for, on a topic stream. */
  let carried: Set<string> | undefined;

  const reconnected = () => {
    const upstream = made.made.at(-1);
    if (!upstream || (upstream === connection && upstream.restarts.length === restarts)) return;
    connection = upstream;
    restarts = upstream.restarts.length;
    const last = upstream.restarts.at(-1);
    if (upstream.options.prelude) carried = new Set(new URL(last?.url ?? upstream.options.url).searchParams.getAll('topic'));
    const from = last ? last.lastEventId : upstream.options.lastEventId;
    if (from) {
      cursor = log.findIndex((e) => idOf(e) === from) + 1;
    } else {
      cursor = log.length;
      if (upstream.options.prelude) upstream.idOnly(`1-${log.length}`);
    }
  };

  const read = (): boolean => {
    reconnected();
    const upstream = made.made.at(-1);
    if (!upstream || upstream.closed) return false;
    while (carried && cursor < log.length && !carried.has((log[cursor] as { topic: string }).topic)) cursor++;
    if (cursor >= log.length) return false;
    const entry = log[cursor++]!;
    upstream.event(idOf(entry), type, typeof entry === 'string' ? undefined : `${entry.topic}\n{}`);
    reconnected();
    return true;
  };

  return { ...made, reconnected, read, cursor: () => cursor };
}
