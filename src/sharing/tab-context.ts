import type { Connection, ConnectionOptions } from '../engine/connection.js';
import { NAMESPACE } from '../protocol/release.js';

/**
 * What one page keeps for all its clients: the links to hubs (one SharedWorker link per worker
 * URL, one leader link per credentials group, one local link), made once and shared by every
 * client of the page, and the page's lifecycle. The client makes the page's own on first use; a
 * test makes as many as it has tabs.
 */
export interface TabContext {
  /** Prefix of every worker, lock and channel name: the release's (`ssemux@<version>/<protocol>`). */
  readonly namespace: string;
  /** What is kept under `name`, made by `make` the first time. */
  once<T>(name: string, make: () => T): T;
  /** Forgets what is kept under `name` (a link that retired): the next `once` makes it anew. */
  forget(name: string): void;
  /** Calls `listener` at every `pagehide` (or `pageshow`) of the page; returns the function that stops it. */
  onPage(type: 'pagehide' | 'pageshow', listener: (event: PageTransitionEvent) => void): () => void;
  /** Opens the upstreams of hubs that run in this page (leader and local modes). @default createConnection */
  readonly connect?: (options: ConnectionOptions) => Connection;
}

/** Options of {@link createTabContext}: what a test replaces. */
export interface TabContextOptions {
  /** @default this release's NAMESPACE */
  namespace?: string;
  /** @default createConnection */
  connect?: (options: ConnectionOptions) => Connection;
  /** Where page lifecycle events come from. @default globalThis (nothing, in a worker or on a server) */
  page?: Partial<Pick<EventTarget, 'addEventListener' | 'removeEventListener'>>;
}

/** A page's {@link TabContext}. */
export function createTabContext(options: TabContextOptions = {}): TabContext {
  const kept = new Map<string, unknown>();
  const page = options.page ?? (globalThis as Partial<EventTarget>);
  return {
    namespace: options.namespace ?? NAMESPACE,
    once<T>(name: string, make: () => T): T {
      if (!kept.has(name)) kept.set(name, make());
      return kept.get(name) as T;
    },
    forget: (name) => void kept.delete(name),
    onPage(type, listener) {
      const handler = listener as EventListener;
      page.addEventListener?.(type, handler);
      return () => page.removeEventListener?.(type, handler);
    },
    ...(options.connect && { connect: options.connect }),
  };
}
