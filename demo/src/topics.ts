// The tab's topics: `main` always, plus the jobs it follows. One store for the page, so every
// panel sees the same set, and every change goes to the client (and so to the shared upstream).
import { useSyncExternalStore } from 'react';
import { MAIN_TOPIC, type DemoClient } from './client';

let followed: readonly string[] = [];
const listeners = new Set<() => void>();

function set(client: DemoClient, next: readonly string[]): void {
  followed = next;
  client.setTopics([MAIN_TOPIC, ...next]);
  for (const listener of [...listeners]) listener();
}

/** Topics this tab follows beyond `main`, and the functions that change them. */
export function useTopics(client: DemoClient) {
  const topics = useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      return () => void listeners.delete(onChange);
    },
    () => followed,
  );
  return {
    topics,
    follow: (topic: string) => {
      if (!followed.includes(topic)) set(client, [...followed, topic]);
    },
    unfollow: (topic: string) => set(client, followed.filter((t) => t !== topic)),
  };
}
