export { createRealtimeClient } from './client/create-realtime-client.js';
export type { Listener, RealtimeClient } from './client/create-realtime-client.js';
export { DEFAULTS } from './protocol/defaults.js';
export { RealtimeError, isRealtimeError } from './protocol/errors.js';
export type { RealtimeErrorCode } from './protocol/errors.js';
export { PROTOCOL_VERSION } from './protocol/release.js';
export type {
  BackoffOptions,
  ConnectionState,
  EventMap,
  HeadersInit,
  HeadersProvider,
  ParseOption,
  RealtimeClientOptions,
  RealtimeMessage,
  RealtimeStatus,
  ResolvedSharing,
  ResolvedTransport,
  SharingMode,
  StatusReason,
  StatusError,
  TransportKind,
} from './protocol/types.js';
