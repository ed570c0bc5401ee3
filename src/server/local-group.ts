import type { ControlMessage, StoreMember, StoreMembership } from './event-store.js';

/** The members of one store that all live in this process, and how they talk. */
export interface LocalGroup {
  join(member: StoreMember): StoreMembership;
  /** Everyone leaves. */
  clear(): void;
}

/**
 * The group of servers of a store that lives in one process (memoryStore): a broadcast or a
 * notice is a call of every other member. A member cannot die without leaving here, so none is
 * ever reported gone.
 */
export function createLocalGroup(): LocalGroup {
  const members = new Map<string, StoreMember>();
  let joined = 0;
  // Messages reach the members in the order they were sent, group-wide, as a shared log would
  // carry them: one sent by a member while it receives another waits until that one reached all.
  const queue: (() => void)[] = [];
  let delivering = false;
  const inOrder = (deliver: () => void) =>
    new Promise<void>((resolve) => {
      queue.push(() => {
        try {
          deliver();
        } finally {
          resolve();
        }
      });
      if (delivering) return;
      delivering = true;
      for (let next = queue.shift(); next; next = queue.shift()) next();
      delivering = false;
    });
  /** Hands a copy of `text` to `peer`; what it answers, or a throw (a member that fails, fails alone). */
  const hand = (peer: StoreMember, text: string): Promise<unknown> => {
    try {
      return Promise.resolve(peer.receive(JSON.parse(text) as ControlMessage));
    } catch (error) {
      return Promise.reject(error);
    }
  };

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
          const asked: Promise<void>[] = [];
          await inOrder(() => {
            for (const peer of others) {
              asked.push(
                (async () => {
                  try {
                    const answer = await hand(peer, text);
                    answers.push(answer === undefined ? null : JSON.parse(JSON.stringify(answer)));
                  } catch {
                    // A member that fails to answer is one that did not answer: counted as missing.
                  }
                })(),
              );
            }
          });
          let timer: ReturnType<typeof setTimeout> | undefined;
          const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
          await Promise.race([Promise.all(asked), deadline]);
          clearTimeout(timer);
          return { answers: [...answers], missing: others.length - answers.length };
        },
        async notify(message) {
          if (!members.has(id)) throw new Error('notify: this member left the group');
          const text = JSON.stringify(message);
          await inOrder(() => {
            for (const [other, peer] of members) if (other !== id) void hand(peer, text).catch(() => {});
          });
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
