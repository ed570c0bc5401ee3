import type { ControlMessage, StoreMember, StoreMembership } from './event-store.js';

/** The members of one store that all live in this process, and how they talk. */
export interface LocalGroup {
  join(member: StoreMember): StoreMembership;
  /** Everyone leaves. */
  clear(): void;
}

/**
 * The group of servers of a store that lives in one process (memoryStore): a broadcast is a
 * call of every other member. A member cannot die without leaving here, so none is ever
 * reported gone.
 */
export function createLocalGroup(): LocalGroup {
  const members = new Map<string, StoreMember>();
  let joined = 0;

  return {
    join(member) {
      const id = `local-${++joined}`;
      members.set(id, member);
      return {
        id,
        async members() {
          return [...members.keys()];
        },
        async broadcast(message, timeoutMs) {
          if (!members.has(id)) throw new Error('broadcast: this member left the group');
          // What crosses the store is JSON, here as over Redis: a member never shares an object with another.
          const text = JSON.stringify(message);
          const others = [...members].filter(([other]) => other !== id).map(([, peer]) => peer);
          const answers: unknown[] = [];
          let timer: ReturnType<typeof setTimeout> | undefined;
          const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
          const asked = Promise.all(
            others.map(async (peer) => {
              try {
                const answer = await peer.receive(JSON.parse(text) as ControlMessage);
                answers.push(answer === undefined ? null : JSON.parse(JSON.stringify(answer)));
              } catch {
                // A member that fails to answer is one that did not answer: counted as missing.
              }
            }),
          );
          await Promise.race([asked, deadline]);
          clearTimeout(timer);
          return { answers: [...answers], missing: others.length - answers.length };
        },
        async notify(message) {
          if (!members.has(id)) throw new Error('notify: this member left the group');
          const text = JSON.stringify(message);
          // Handed out at once, so that notices keep their order with each other and with answers.
          for (const [other, peer] of [...members]) {
            if (other === id) continue;
            try {
              void Promise.resolve(peer.receive(JSON.parse(text) as ControlMessage)).catch(() => {});
            } catch {
              // A member that fails on a notice fails alone.
            }
          }
        },
        async leave() {
          members.delete(id);
        },
      };
    },
    clear() {
      members.clear();
    },
  };
}
