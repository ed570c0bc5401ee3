// The EventStore contract on redisStore and a real redis-server: each store on a key of its
// own; a peer is another redisStore on the same key, as another instance would have.
import { afterAll } from 'vitest';
import { redisStore, type EventStore } from 'ssemux/server';
import { startRedis } from '../support/redis.js';
import { describeStoreConformance } from './describe-store-conformance.js';

const redis = await startRedis();
afterAll(() => redis.stop());

const keys = new WeakMap<EventStore, string>();
let count = 0;
const open = (key = `store-conformance:${++count}`) => {
  const store = redisStore({ url: redis.url, key });
  keys.set(store, key);
  return store;
};

describeStoreConformance('redisStore', { open: () => open(), peer: (store) => open(keys.get(store)) });
