import { userOf, type Identity } from './identity.js';
import { isTopicName, isUserName } from './names.js';

/**
 * Which open streams `disconnect` ends: those of a user and/or carrying a topic (on every
 * instance that shares the store), or those a predicate picks (on this server only: a function
 * cannot travel to another process).
 */
export type DisconnectFilter<I> =
  | { user: string; topic?: string }
  | { user?: string; topic: string }
  | ((identity: I, topics: readonly string[]) => boolean);

/** A filter that can cross the store to the other instances. */
export interface SharedFilter {
  user?: string;
  topic?: string;
}

/** Picks connections by who they are and what they carry. */
export type StreamMatcher<I> = (identity: I, topics: readonly string[]) => boolean;

/**
 * Checks a filter given to `disconnect`: a predicate, or an object naming a user and/or a topic
 * and nothing else. A filter that cannot mean anyone (`{}`, `{ user: undefined }` — what a failed
 * lookup passes — or an empty or ill-formed name) is a TypeError rather than "every stream".
 */
export function checkFilter<I>(filter: DisconnectFilter<I>): { shared: SharedFilter | null; matches: StreamMatcher<I> } {
  if (typeof filter === 'function') return { shared: null, matches: filter };
  if (typeof filter !== 'object' || filter === null) throw new TypeError('disconnect: the filter must be { user, topic } or a function');
  const { user, topic, ...rest } = filter as SharedFilter;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new TypeError(`disconnect: unknown filter field ${JSON.stringify(extra[0])}`);
  if (user === undefined && topic === undefined) throw new TypeError('disconnect: the filter names no user and no topic (it would end every stream)');
  if (user !== undefined && !isUserName(user)) throw new TypeError(`disconnect: user must be a non-empty, well-formed string, got ${JSON.stringify(user)}`);
  if (topic !== undefined && !isTopicName(topic)) throw new TypeError(`disconnect: topic must be a topic name, got ${JSON.stringify(topic)}`);
  const shared: SharedFilter = {};
  if (user !== undefined) shared.user = user;
  if (topic !== undefined) shared.topic = topic;
  return { shared, matches: matcherOf<I>(shared) };
}

/** The matcher of a shared filter (checked, here or on the instance that sent it). */
function matcherOf<I>(filter: SharedFilter): StreamMatcher<I> {
  return (identity, topics) =>
    (filter.user === undefined || userOf(identity as Identity) === filter.user) && (filter.topic === undefined || topics.includes(filter.topic));
}
