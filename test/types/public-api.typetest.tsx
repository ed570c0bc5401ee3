// What an application writes from the README must type-check: `npm test` runs tsc over this file
// (with the whole repository). Lines marked @ts-expect-error must stay errors.
import { createContext } from 'react';
import { createRealtimeClient, isRealtimeError, type ListenOptions, type PresenceData, type RealtimeClient, type TabCount } from 'ssemux';
import { useRealtimeEvent, useRealtimeLatest } from 'ssemux/react';

type Events = { notification: { title: string; body: string }; 'job-progress': { jobId: string; pct: number } };
declare function show(topic: string | undefined, members: readonly { user: string; browsers: number }[], tabs: number): void;

// An event map written as an interface, as the DOM's own WindowEventMap is.
interface AppEvents {
  price: number;
  note: string;
}
const byInterface = createRealtimeClient<AppEvents>({ url: '/events' });
byInterface.on('price', (msg) => msg.data.toFixed(2));
// @ts-expect-error: note is a string
byInterface.on('note', (msg) => msg.data.toFixed(2));

// A typed client is a RealtimeClient: a React context of the app's client, a helper taking clients.
const typed = createRealtimeClient<Events>({ url: '/events' });
export const ClientContext = createContext<RealtimeClient | null>(typed);
export function closeAll(clients: RealtimeClient[]): void {
  for (const client of clients) client.close();
}
closeAll([typed, byInterface]);

// A client made without a map hears unknown data.
const untyped = createRealtimeClient({ url: '/events', topics: ['doc/42'] });
// @ts-expect-error: data is unknown
untyped.on('anything', (msg) => msg.data.toFixed(2));

// "Who is here": presence, with a typed client and without one, in the hooks too.
typed.on('ssemux:presence', ({ topic, data }) => show(topic, data.members, typed.tabs.count), { latest: true });
untyped.on('ssemux:presence', ({ topic, data }) => show(topic, data.members, untyped.tabs.count), { latest: true });
export function WhoIsHere({ client }: { client: RealtimeClient<Events> }) {
  useRealtimeEvent(client, 'ssemux:presence', (msg) => msg.data.anonymous);
  const presence: PresenceData | undefined = useRealtimeLatest(client, 'ssemux:presence');
  return presence ? null : null;
}

// The types of on()'s options and of client.tabs are exported.
const options: ListenOptions = { tabs: 'one', latest: true };
typed.on('notification', (msg) => msg.data.title, options);
const tabs: TabCount = typed.tabs;
void tabs.visible;

// status.error is plain data: the guard gives its fields, not an Error's methods.
const error: unknown = typed.status.error;
if (isRealtimeError(error)) {
  void error.code;
  // @ts-expect-error: a status error crossed from the hub as plain data
  error.toJSON();
}
