/**
 * `ssemux/eventsource`: three familiar APIs over one stream shared by every tab of the origin,
 * so that adopting ssemux is a change of import. `SharedEventSource` is the platform's
 * `EventSource`; `EventSourcePolyfill` is event-source-polyfill's; `fetchEventSource` is
 * @microsoft/fetch-event-source's. They import ssemux's public entry, kept external in the
 * bundle: an app that uses both loads the client once.
 */
export { SharedEventSource } from './shared-event-source.js';
export type { SharedEventSourceInit } from './shared-event-source.js';
export { EventSourcePolyfill } from './event-source-polyfill.js';
export type { EventSourcePolyfillInit } from './event-source-polyfill.js';
export { EventStreamContentType, fetchEventSource } from './fetch-event-source.js';
export type { EventSourceMessage, FetchEventSourceInit } from './fetch-event-source.js';
