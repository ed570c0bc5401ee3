import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createDemoClient, type DemoClient } from './client';
import { announceVisitor } from './visitor';
import './styles.css';

// Before the client connects: the server counts this browser under its name.
announceVisitor();
let client: DemoClient | undefined;
let failure: unknown;
try {
  client = createDemoClient();
} catch (error) {
  failure = error;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {client ? (
      <App client={client} />
    ) : (
      <main className="fatal" data-testid="fatal">
        <h1>The realtime client could not start</h1>
        <p>{failure instanceof Error ? failure.message : String(failure)}</p>
        <p>
          Check <code>?sharing=</code> (auto, shared-worker, leader, none) and <code>?transport=</code> (auto, fetch,
          eventsource, polyfill, long-poll) in the address.
        </p>
      </main>
    )}
  </StrictMode>,
);
