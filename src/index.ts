export { createRealtimeClient } from './client/create-realtime-client.js';
export type { ListenOptions, Listener, RealtimeClient } from './client/create-realtime-client.js';
export type { TabCount } from './protocol/stream.js';
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
  PresenceData,
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
