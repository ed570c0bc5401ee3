import type { StreamSpec } from '../protocol/stream.js';
import type { ResolvedSharing } from '../protocol/types.js';
import type { Link } from '../sharing/link.js';
import { sharedWorkerLink } from '../sharing/shared-worker-link.js';
import type { TabContext } from '../sharing/tab-context.js';
import type { ResolvedOptions } from './resolve-options.js';

/** A sharing mode to try, and why the ones before it were skipped. */
export interface LinkChoice {
  sharing: ResolvedSharing;
  create(spec: StreamSpec): Link;
  /** Why this is not the mode asked for, when it is not. */
  reason?: string;
}

/** What the order of sharing modes depends on. */
export type OrderOptions = Pick<ResolvedOptions, 'sharing' | 'workerUrl' | 'stream'>;

/**
 * The first sharing mode to try when it is the SharedWorker, which is decided here, in the
 * page's first download. The others (leader election, then each tab on its own) follow it in
 * `auto` when it fails, or come first without it: they run a hub and the engine in the page and
 * come with them as one chunk (./fallback-order.ts), which a page downloads only then.
 */
export function workerChoice(options: OrderOptions, context: TabContext): LinkChoice | undefined {
  const { sharing, workerUrl } = options;
  const usable = sharing === 'auto' && typeof SharedWorker === 'function' && workerUrl && options.stream.transport !== 'polyfill';
  if (sharing === 'shared-worker' || usable) return { sharing: 'shared-worker', create: () => sharedWorkerLink(context, workerUrl!) };
  return undefined;
}
