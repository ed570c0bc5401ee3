import { canElectLeader, leaderLink } from '../sharing/leader-link.js';
import { localLink } from '../sharing/local-link.js';
import type { TabContext } from '../sharing/tab-context.js';
import type { LinkChoice, OrderOptions } from './sharing-order.js';

/**
 * The sharing modes to try when the SharedWorker is not tried or failed, best first, each with
 * why the ones before it were passed over: leader election, then each tab on its own. A chunk,
 * with the links, the hub and the engine they run (see ./sharing-order.ts).
 */
export function fallbackOrder(options: OrderOptions, context: TabContext): LinkChoice[] {
  const { sharing, workerUrl } = options;
  const leader: LinkChoice = { sharing: 'leader', create: (spec) => leaderLink(context, spec.credentialsKey) };
  const none: LinkChoice = { sharing: 'none', create: () => localLink(context) };
  if (sharing === 'none') return [none];
  if (sharing === 'shared-worker') return [];
  let reason: string | undefined;
  if (sharing === 'auto') {
    if (typeof SharedWorker !== 'function') reason = 'SharedWorker is not available';
    // Said where a migrating app meets it (status.fallbackReason, the debug log): what it costs.
    else if (!workerUrl) reason = 'No workerUrl was given: every tab loads and runs the hub and the engine itself (a 12 KB chunk); see "Serving the worker"';
    else if (options.stream.transport === 'polyfill') reason = "transport 'polyfill' runs in the page";
  }
  const choices: LinkChoice[] = [];
  if (canElectLeader()) choices.push(reason ? { ...leader, reason } : leader);
  else reason = `${reason ? `${reason}; ` : ''}Web Locks or BroadcastChannel are not available`;
  choices.push(reason ? { ...none, reason } : none);
  return choices;
}
