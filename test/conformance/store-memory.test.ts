// The EventStore contract on memoryStore: its instances are the servers of one process that
// share the store object.
import { memoryStore } from 'ssemux/server';
import { describeStoreConformance } from './describe-store-conformance.js';

describeStoreConformance('memoryStore', {
  open: () => memoryStore(),
  peer: (store) => store,
});
