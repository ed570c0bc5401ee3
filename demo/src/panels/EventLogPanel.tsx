import { memo, useRef, useState } from 'react';
import { useRealtimeEvent } from 'ssemux/react';
import type { DemoClient } from '../client';

const MAX_ROWS = 200;
const SEEN_IDS = 2000;

interface Row {
  /** Arrival number in this tab. */
  seq: number;
  id: string;
  type: string;
  text: string;
  /** Events missing before this one (its id is not the previous id + 1). */
  missed?: number;
  /** An id seen before. */
  duplicate?: boolean;
  /** An id lower than one already seen, but not seen itself. */
  outOfOrder?: boolean;
}

/**
 * Every event, newest first. The server numbers events with one global counter and the demo has
 * one stream, so an id that is not the previous id + 1 means events were lost: the row says so.
 */
export function EventLogPanel({ client }: { client: DemoClient }) {
  const [rows, setRows] = useState<Row[]>([]);
  const [types, setTypes] = useState<string[]>([]);
  const [filter, setFilter] = useState('');
  const [counts, setCounts] = useState({ total: 0, gaps: 0, duplicates: 0 });
  const track = useRef({ seq: 0, lastId: undefined as number | undefined, seen: new Set<string>() });

  useRealtimeEvent(client, '*', (msg) => {
    const t = track.current;
    const row: Row = { seq: ++t.seq, id: msg.lastEventId, type: msg.type, text: msg.text };
    const n = /^\d+$/.test(msg.lastEventId) ? Number(msg.lastEventId) : undefined;
    if (t.seen.has(msg.lastEventId)) {
      row.duplicate = true;
    } else if (n !== undefined) {
      if (t.lastId !== undefined && n !== t.lastId + 1) {
        if (n > t.lastId) row.missed = n - t.lastId - 1;
        else row.outOfOrder = true;
      }
      t.lastId = t.lastId === undefined ? n : Math.max(t.lastId, n);
    }
    t.seen.add(msg.lastEventId);
    if (t.seen.size > SEEN_IDS) t.seen.delete(t.seen.values().next().value!);

    setRows((prev) => [row, ...prev.slice(0, MAX_ROWS - 1)]);
    setTypes((prev) => (prev.includes(msg.type) ? prev : [...prev, msg.type].sort()));
    setCounts((c) => ({
      total: c.total + 1,
      gaps: c.gaps + (row.missed !== undefined || row.outOfOrder ? 1 : 0),
      duplicates: c.duplicates + (row.duplicate ? 1 : 0),
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
        Last {MAX_ROWS} events of this tab, newest first. A gap (an id that is not the previous id + 1) or a duplicate id
        is flagged in its row.
      </p>
    </section>
  );
}

const LogRow = memo(function LogRow({ row }: { row: Row }) {
  const flag = row.duplicate ? 'dup' : row.missed !== undefined || row.outOfOrder ? 'gap' : undefined;
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
        {row.missed !== undefined && (
          <span className="flag gap" data-testid="flag-gap" title="Events were lost before this one">
            gap: {row.missed} missed
          </span>
        )}
        {row.outOfOrder && (
          <span className="flag gap" data-testid="flag-gap">
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
      </td>
      <td className="c-data">
        <code>{row.text}</code>
      </td>
    </tr>
  );
});
