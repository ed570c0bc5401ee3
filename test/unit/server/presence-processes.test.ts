// Presence across server processes on one redis-server, one of them killed with SIGKILL: its
// identities must leave the others' presence within its lease, with a change event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { openSse, splitTopic, type SseResponse } from '../../conformance/sse-client.js';
import { startServerProcess } from './server-process.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
}, 120_000);
afterAll(() => redis?.stop());

interface PresenceData {
  members: { user: string; browsers: number }[];
  anonymous: number;
  change?: { user: string | null; browsers: number };
}
const presence = (res: SseResponse): PresenceData[] =>
  res.events.filter((event) => event.type === 'ssemux:presence').map((event) => JSON.parse(splitTopic(event).data) as PresenceData);
const browsers = (res: SseResponse, user: string) => presence(res).at(-1)?.members.find((m) => m.user === user)?.browsers ?? 0;

describe('presence across server processes on one Redis', () => {
  it("drops a SIGKILLed instance's identities from the other's presence within its lease, with a change event", async () => {
    const memberLeaseMs = 1_500;
    const presenceGraceMs = 300;
    const config = { redisUrl: redis.url, key: 'presence-kill', memberLeaseMs, options: { presenceGraceMs } };
    const a = await startServerProcess(config);
    const b = await startServerProcess(config);
    const alice = { headers: { Authorization: 'alice' } };
    const onA = await openSse(`${a.url}/events?topic=room&presence=1`, alice);
    const onB = await openSse(`${b.url}/events?topic=room&presence=1`, alice);
    await onB.until(() => browsers(onB, 'alice') === 2, 5_000);
    await onA.until(() => browsers(onA, 'alice') === 2, 5_000);
    expect(await b.call('presence', 'room')).toEqual({ members: [{ user: 'alice', browsers: 2 }], anonymous: 0 });

    const killed = Date.now();
    await a.kill();
    // The lease ends, the next renewal of b finds it (a third of a lease later at most), then the grace.
    const bound = memberLeaseMs + memberLeaseMs / 3 + presenceGraceMs;
    await onB.until(() => browsers(onB, 'alice') === 1, bound + 5_000);
    const took = Date.now() - killed;
    expect(presence(onB).at(-1)).toEqual({ members: [{ user: 'alice', browsers: 1 }], anonymous: 0, change: { user: 'alice', browsers: 1 } });
    expect(await b.call('presence', 'room')).toEqual({ members: [{ user: 'alice', browsers: 1 }], anonymous: 0 });
    // Not before the lease ran out (renewed every third of it, so at least two thirds of it after
    // the kill) and the grace passed, and not long after; slack for a loaded machine.
    expect(took).toBeGreaterThanOrEqual((memberLeaseMs * 2) / 3 + presenceGraceMs);
    expect(took).toBeLessThan(bound + 2_000);
    console.info(`presence: a SIGKILLed instance's identity left the other's presence after ${took} ms (lease ${memberLeaseMs} ms, grace ${presenceGraceMs} ms)`);
  });
});
