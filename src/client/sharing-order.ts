import type { StreamSpec } from '../protocol/stream.js';
import type { ResolvedSharing } from '../protocol/types.js';
import type { Link } from '../sharing/link.js';
import { canElectLeader } from '../sharing/locks.js';
import { sharedWorkerLink } from '../sharing/shared-worker-link.js';
import type { ResolvedOptions } from './resolve-options.js';

/** A sharing mode to try, and why the ones before it were skipped. */
export interface LinkChoice {
  sharing: ResolvedSharing;
  /** The link; the leader and local links (and the hub and engine they run) are loaded when first chosen. */
  create(spec: StreamSpec): Link | Promise<Link>;
  /** Why this is not the mode asked for, when it is not. */
  reason?: string;
}

/**
 * Sharing modes to try, best first. `auto`: the SharedWorker, then leader election, then each
 * tab on its own. A mode that fails to start hands over to the next (see the client). Only the
 * SharedWorker link is in the page's first download: the others run a hub and the engine in
 * the page, chunks a page downloads only when it needs them.
 */
export function sharingOrder(options: Pick<ResolvedOptions, 'sharing' | 'workerUrl' | 'stream'>): LinkChoice[] {
  const { sharing, workerUrl } = options;
  const worker: LinkChoice = { sharing: 'shared-worker', create: () => sharedWorkerLink(workerUrl!) };
  const leader: LinkChoice = { sharing: 'leader', create: (spec) => import('../sharing/leader-link.js').then((m) => m.leaderLink(spec.credentialsKey)) };
  const none: LinkChoice = { sharing: 'none', create: () => import('../sharing/local-link.js').then((m) => m.localLink()) };
  if (sharing === 'none') return [none];
  if (sharing === 'shared-worker') return [worker];
  const choices: LinkChoice[] = [];
  let reason: string | undefined;
  if (sharing === 'auto') {
    if (typeof SharedWorker !== 'function') reason = 'SharedWorker is not available';
    else if (!workerUrl) reason = 'No workerUrl was given';
    else if (options.stream.transport === 'polyfill') reason = "transport 'polyfill' runs in the page";
    else choices.push(worker);
  }
  if (canElectLeader()) choices.push(reason ? { ...leader, reason } : leader);
  else reason = `${reason ? `${reason}; ` : ''}Web Locks or BroadcastChannel are not available`;
  choices.push(reason ? { ...none, reason } : none);
  return choices;
}
