import { useState } from 'react';
import { post } from '../api';

interface Fault {
  id: string;
  label: string;
  help: string;
  run: () => Promise<string>;
}

const FAULTS: Fault[] = [
  {
    id: 'drop',
    label: 'Drop connection',
    help: 'Cuts every open stream like a network failure; the client resumes from the last event id.',
    run: async () => {
      const { dropped } = await post<{ dropped: number }>('/faults/drop-all');
      return `Dropped ${dropped} open ${dropped === 1 ? 'stream' : 'streams'}.`;
    },
  },
  {
    id: 'stall',
    label: 'Stall connection',
    help: 'The next connection sends headers, then silence: the 5 s heartbeat timeout notices.',
    run: async () => {
      await post('/faults', { kind: 'stall', stream: 'main' });
      const { dropped } = await post<{ dropped: number }>('/faults/drop-all');
      return `Queued a stall and dropped ${dropped}; expect a heartbeat timeout in ~5 s.`;
    },
  },
  {
    id: 'restart',
    label: 'Restart stream server-side',
    help: 'Ends every stream cleanly, as a deploy does.',
    run: async () => {
      const { ended } = await post<{ ended: number }>('/faults/restart');
      return `Ended ${ended} ${ended === 1 ? 'stream' : 'streams'} cleanly.`;
    },
  },
];

/** Buttons that break the connection on purpose. */
export function FaultsPanel() {
  const [result, setResult] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (fault: Fault) => {
    setBusy(true);
    try {
      setResult(await fault.run());
    } catch (error) {
      setResult(`Failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" data-testid="faults-panel">
      <h2>Faults</h2>
      <ul className="faults">
        {FAULTS.map((fault) => (
          <li key={fault.id}>
            <button type="button" className="danger" disabled={busy} data-testid={`fault-${fault.id}`} onClick={() => void run(fault)}>
              {fault.label}
            </button>
            <span className="muted small">{fault.help}</span>
          </li>
        ))}
      </ul>
      <p className="small fault-result" data-testid="fault-result" aria-live="polite">
        {result}
      </p>
    </section>
  );
}
