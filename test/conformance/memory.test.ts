// The conformance suite against createRealtimeServer on a memoryStore.
import { afterAll } from 'vitest';
import { memoryStore } from 'ssemux/server';
import { describeConformance } from './describe-conformance.js';
import { startLocalTarget } from './local-target.js';

const store = memoryStore({ maxEvents: 200 });
const local = await startLocalTarget(store, 200);
afterAll(async () => {
  await local.close();
  await store.close();
});

describeConformance('memoryStore', local.target);
