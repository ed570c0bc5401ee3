import { memo, useEffect, useRef, useState } from 'react';
import { useRealtimeEvent } from 'ssemux/react';
import type { DemoClient } from '../client';

const MAX_ROWS = 200;
const SEEN_IDS = 2000;

interface Row {
  /** Arrival number in this tab. */
  seq: number;
  id: string;
  type: string;
  topic?: string;
  text: string;
  /** An id seen before. */
  duplicate?: boolean;
  /** An id older than one already seen on its topic. */
  outOfOrder?: boolean;
}

/** Orders two cursors `<a>-<b>` of the server's log (docs/server-protocol.md): by a, then b. */
function compareCursors(x: string, y: string): number {
  const [a1 = '', b1 = ''] = x.split('-');
  const [a2 = '', b2 = ''] = y.split('-');
  return a1.length - a2.length || a1.localeCompare(a2) || b1.length - b2.length || b1.localeCompare(b2);
}

/**
 * Every event, newest first. The server's ids are cursors of its one log: on a topic they only
 * grow, so an id seen before is a duplicate and a smaller one out of order. Holes between ids are
 * normal (other topics' events); a real gap is what the client reports in its status (`gap`:
 * the server could not replay far enough), and that is what the gap counter counts.
 */
export function EventLogPanel({ client }: { client: DemoClient }) {
  const [rows, setRows] = useState<Row[]>([]);
  const [types, setTypes] = useState<string[]>([]);
  const [filter, setFilter] = useState('');
  const [counts, setCounts] = useState({ total: 0, gaps: 0, duplicates: 0, outOfOrder: 0 });
  const track = useRef({ seq: 0, newest: new Map<string, string>(), seen: new Set<string>() });

  useEffect(
    () =>
      client.onStatus((status) => {
        if (status.error?.code === 'gap') setCounts((c) => ({ ...c, gaps: c.gaps + 1 }));
      }),
    [client],
  );

  useRealtimeEvent(client, '*', (msg) => {
    const t = track.current;
    const row: Row = { seq: ++t.seq, id: msg.lastEventId, type: msg.type, text: msg.text };
    const topic = msg.topic ?? '';
    if (msg.topic !== undefined) row.topic = msg.topic;
    if (t.seen.has(msg.lastEventId)) row.duplicate = true;
    else {
      const newest = t.newest.get(topic);
      if (newest !== undefined && compareCursors(msg.lastEventId, newest) < 0) row.outOfOrder = true;
      else t.newest.set(topic, msg.lastEventId);
    }
    t.seen.add(msg.lastEventId);
    if (t.seen.size > SEEN_IDS) t.seen.delete(t.seen.values().next().value!);

    setRows((prev) => [row, ...prev.slice(0, MAX_ROWS - 1)]);
    setTypes((prev) => (prev.includes(msg.type) ? prev : [...prev, msg.type].sort()));
    setCounts((c) => ({
      ...c,
      total: c.total + 1,
      duplicates: c.duplicates + (row.duplicate ? 1 : 0),
      outOfOrder: c.outOfOrder + (row.outOfOrder ? 1 : 0),
    }));
  });

  const shown = filter ? rows.filter((r) => r.type === filter) : rows;

  return (
    <section className="panel wide" data-testid="log-panel">
      <div className="panel-head">
        <h2>Live event log</h2>
        <div className="log-tools">
          <span className="counter" data-testid="log-total">
            {counts.total} events
          </span>
          <span className={`counter${counts.gaps ? ' bad' : ' good'}`} data-testid="log-gaps" data-count={counts.gaps}>
            {counts.gaps} {counts.gaps === 1 ? 'gap' : 'gaps'}
          </span>
          <span className={`counter${counts.duplicates ? ' bad' : ' good'}`} data-testid="log-dups" data-count={counts.duplicates}>
            {counts.duplicates} {counts.duplicates === 1 ? 'duplicate' : 'duplicates'}
          </span>
          <span className={`counter${counts.outOfOrder ? ' bad' : ' good'}`} data-testid="log-order" data-count={counts.outOfOrder}>
            {counts.outOfOrder} out of order
          </span>
          <label>
            Type{' '}
            <select value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="log-filter">
              <option value="">all types</option>
              {types.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div className="log-scroll">
        <table className="log" data-testid="log">
          <thead>
            <tr>
              <th className="c-seq">#</th>
              <th className="c-id">id</th>
              <th className="c-type">type</th>
              <th>data</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <LogRow key={row.seq} row={row} />
            ))}
          </tbody>
        </table>
        {shown.length === 0 && <p className="empty">Waiting for events…</p>}
      </div>
      <p className="muted small">
        Last {MAX_ROWS} events of this tab, newest first. An id seen before, or older than one already seen on its topic,
        is flagged in its row; a gap is what the client reports when the server could not replay far enough.
      </p>
    </section>
  );
}

const LogRow = memo(function LogRow({ row }: { row: Row }) {
  const flag = row.duplicate ? 'dup' : row.outOfOrder ? 'order' : undefined;
  return (
    <tr
      data-testid="log-row"
      data-seq={row.seq}
      data-id={row.id}
      data-type={row.type}
      data-flag={flag}
      className={flag ? `flag-${flag}` : undefined}
    >
      <td className="c-seq">{row.seq}</td>
      <td className="c-id">
        {row.id}
        {row.outOfOrder && (
          <span className="flag gap" data-testid="flag-order">
            out of order
          </span>
        )}
        {row.duplicate && (
          <span className="flag dup" data-testid="flag-dup">
            duplicate
          </span>
        )}
      </td>
      <td className="c-type">
        <span className={`type type-${row.type}`}>{row.type}</span>
        {row.topic && row.topic !== 'main' && <span className="topic-tag">{row.topic}</span>}
      </td>
      <td className="c-data">
        <code>{row.text}</code>
      </td>
    </tr>
  );
});
