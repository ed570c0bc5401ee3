import type { Connection } from '../engine/connection.js';
import type { UpstreamOptions } from '../hub/hub.js';
import { NAMESPACE } from '../protocol/release.js';

/** Whether a page is visible, and when it last had focus (`Date.now()`; 0 for never). */
export interface PageVisibility {
  visible: boolean;
  focusedAt: number;
}

/** What happens to a page that its links act on. */
export type PageLifecycle = 'pagehide' | 'pageshow' | 'freeze' | 'resume';

/**
 * What one page keeps for all its clients: the links to hubs (one SharedWorker link per worker
 * URL, one leader link per credentials group, one local link), made once and shared by every
 * client of the page, and the page's lifecycle and visibility. The client makes the page's own on
 * first use; a test makes as many as it has tabs.
 */
export interface TabContext {
  /** Prefix of every worker, lock and channel name: the release's (`ssemux@<version>/<protocol>`). */
  readonly namespace: string;
  /** What is kept under `name`, made by `make` the first time. */
  once<T>(name: string, make: () => T): T;
  /** Forgets what is kept under `name` (a link that retired): the next `once` makes it anew. */
  forget(name: string): void;
  /**
   * Calls `listener` at every `type` of the page (`freeze` and `resume`: Page Lifecycle, a page
   * frozen in the background or in the back/forward cache); returns the function that stops it.
   */
  onPage(type: PageLifecycle, listener: (event: PageTransitionEvent) => void): () => void;
  /** The page's visibility now. */
  visibility(): PageVisibility;
  /** Calls `listener` whenever the page is shown, hidden or focused. */
  onVisibility(listener: (visibility: PageVisibility) => void): void;
  /** Opens the upstreams of hubs that run in this page (leader and local modes). @default createConnection, in one scope for the page */
  readonly connect?: (options: UpstreamOptions) => Connection;
}

/** Options of {@link createTabContext}: what a test replaces. */
export interface TabContextOptions {
  /** @default this release's NAMESPACE */
  namespace?: string;
  /** @default createConnection, in one scope for the page */
  connect?: (options: UpstreamOptions) => Connection;
}

type Target = Partial<Pick<EventTarget, 'addEventListener' | 'removeEventListener'>>;

/** A page's {@link TabContext}, on this realm's window and document (none in a worker or on a server). */
export function createTabContext(options: TabContextOptions = {}): TabContext {
  const kept = new Map<string, unknown>();
  const page = globalThis as Target;
  const doc = (globalThis as { document?: Document & Target }).document;
  const watchers: ((visibility: PageVisibility) => void)[] = [];
  let focusedAt = 0;
  const visibility = (): PageVisibility => {
    if (!focusedAt && doc?.hasFocus?.()) focusedAt = Date.now();
    return { visible: doc?.visibilityState !== 'hidden', focusedAt };
  };
  const tell = () => watchers.forEach((watcher) => watcher(visibility()));
  return {
    namespace: options.namespace ?? NAMESPACE,
    once<T>(name: string, make: () => T): T {
      if (!kept.has(name)) kept.set(name, make());
      return kept.get(name) as T;
    },
    forget: (name) => void kept.delete(name),
    onPage(type, listener) {
      // Page Lifecycle events fire at the document, the others at the window.
      const target = type === 'freeze' || type === 'resume' ? doc : page;
      target?.addEventListener?.(type, listener as EventListener);
      return () => target?.removeEventListener?.(type, listener as EventListener);
    },
    visibility,
    onVisibility(listener) {
      if (watchers.push(listener) > 1) return;
      doc?.addEventListener?.('visibilitychange', tell);
      page.addEventListener?.('focus', () => {
        focusedAt = Date.now();
        tell();
      });
    },
    ...(options.connect && { connect: options.connect }),
  };
}
