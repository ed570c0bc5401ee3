import type { StreamSpec } from '../protocol/stream.js';
import type { ResolvedSharing } from '../protocol/types.js';
import { canElectLeader, leaderLink } from '../sharing/leader-link.js';
import type { Link } from '../sharing/link.js';
import { localLink } from '../sharing/local-link.js';
import { sharedWorkerLink } from '../sharing/shared-worker-link.js';
import type { ResolvedOptions } from './resolve-options.js';

/** A sharing mode to try, and why the ones before it were skipped. */
export interface LinkChoice {
  sharing: ResolvedSharing;
  create(spec: StreamSpec): Link;
  /** Why this is not the mode asked for, when it is not. */
  reason?: string;
}

/**
 * Sharing modes to try, best first. `auto`: the SharedWorker, then leader election, then each
 * tab on its own. A mode that fails to start hands over to the next (see the client).
 */
export function sharingOrder(options: Pick<ResolvedOptions, 'sharing' | 'workerUrl'>): LinkChoice[] {
  const { sharing, workerUrl } = options;
  const worker: LinkChoice = { sharing: 'shared-worker', create: () => sharedWorkerLink(workerUrl!) };
  const leader: LinkChoice = { sharing: 'leader', create: (spec) => leaderLink(spec.credentialsKey) };
  const none: LinkChoice = { sharing: 'none', create: () => localLink() };
  if (sharing === 'none') return [none];
  if (sharing === 'shared-worker') return [worker];
  const choices: LinkChoice[] = [];
  let reason: string | undefined;
  if (sharing === 'auto') {
    if (typeof SharedWorker !== 'function') reason = 'SharedWorker is not available';
    else if (!workerUrl) reason = 'No workerUrl was given';
    else choices.push(worker);
  }
  if (canElectLeader()) choices.push(reason ? { ...leader, reason } : leader);
  else reason = `${reason ? `${reason}; ` : ''}Web Locks or BroadcastChannel are not available`;
  choices.push(reason ? { ...none, reason } : none);
  return choices;
}
