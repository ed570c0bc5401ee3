/**
 * `ssemux/server`: the server half of ssemux for Node (README: ssemux/server). It speaks the protocol
 * of the server protocol in the README; from the rest of the package it uses only the wire constants.
 */
export {
  createRealtimeServer,
  type DisconnectFilter,
  type PresenceMember,
  type PublishInput,
  type RealtimeServer,
  type RealtimeServerStats,
  type TopicPresence,
} from './create-realtime-server.js';
export { SERVER_DEFAULTS, type RealtimeServerOptions } from './server-options.js';
export { AuthenticationError, PublishError, StoreOutageError, type PublishFailure } from './server-errors.js';
export { ANONYMOUS, type Identity } from './identity.js';
export { memoryStore, MEMORY_STORE_DEFAULTS, type MemoryStoreOptions } from './memory-store.js';
export { redisStore, REDIS_STORE_DEFAULTS, type RedisClient, type RedisStoreOptions } from './redis-store.js';
export type {
  ControlMessage,
  EventStore,
  NewEvent,
  ReadReset,
  ReadResult,
  StoredEvent,
  StoreListener,
  StoreMember,
  StoreMembership,
} from './event-store.js';
