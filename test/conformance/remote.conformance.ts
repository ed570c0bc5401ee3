// The conformance suite against a server named by environment variables (see README.md).
// Included by vite.config.ts only when SSEMUX_CONFORMANCE_URL is set.
import { describeConformance, type ConformanceTarget } from './describe-conformance.js';

const env = process.env;
const baseUrl = env.SSEMUX_CONFORMANCE_URL!.replace(/\/$/, '');
const publishUrl = env.SSEMUX_CONFORMANCE_PUBLISH_URL ?? `${baseUrl}/publish`;
const number = (value: string | undefined) => (value ? Number(value) : undefined);
const userHeader = env.SSEMUX_CONFORMANCE_USER_HEADER ? /^([^:]+):\s*(.*)$/.exec(env.SSEMUX_CONFORMANCE_USER_HEADER) : null;

const target: ConformanceTarget = {
  baseUrl,
  eventsPath: env.SSEMUX_CONFORMANCE_EVENTS_PATH ?? '/events',
  async publish(event) {
    const res = await fetch(publishUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(env.SSEMUX_CONFORMANCE_PUBLISH_AUTH ? { Authorization: env.SSEMUX_CONFORMANCE_PUBLISH_AUTH } : {}),
      },
      body: JSON.stringify(event),
    });
    if (!res.ok) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  },
  headersFor: userHeader ? (user) => ({ [userHeader[1]!]: userHeader[2]!.replaceAll('{user}', user) }) : undefined,
  requiresAuth: env.SSEMUX_CONFORMANCE_REQUIRES_AUTH === '1',
  defaultTopic: env.SSEMUX_CONFORMANCE_DEFAULT_TOPIC,
  deniedTopic: env.SSEMUX_CONFORMANCE_DENIED_TOPIC,
  heartbeatMs: number(env.SSEMUX_CONFORMANCE_HEARTBEAT_MS),
  longPollMs: number(env.SSEMUX_CONFORMANCE_LONG_POLL_MS),
  retention: number(env.SSEMUX_CONFORMANCE_RETENTION),
  presence: env.SSEMUX_CONFORMANCE_PRESENCE_GRACE_MS
    ? { graceMs: Number(env.SSEMUX_CONFORMANCE_PRESENCE_GRACE_MS), maxMembers: number(env.SSEMUX_CONFORMANCE_PRESENCE_MAX_MEMBERS) }
    : undefined,
};

describeConformance(baseUrl, target);
