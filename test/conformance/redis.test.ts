// The conformance suite against createRealtimeServer on a redisStore and a real redis-server.
import { afterAll } from 'vitest';
import { redisStore } from 'ssemux/server';
import { startRedis } from '../support/redis.js';
import { describeConformance } from './describe-conformance.js';
import { startLocalTarget } from './local-target.js';

const redis = await startRedis();
// MAXLEN ~ 200 trims whole stream nodes (100 entries each): 400 more events surely drop one.
const store = redisStore({ url: redis.url, maxLen: 200 });
const local = await startLocalTarget(store, 400);
afterAll(async () => {
  await local.close();
  await store.close();
  await redis.stop();
});

describeConformance('redisStore', local.target);
