/** A random id for lock and tab names: `randomUUID` where there is one (secure contexts), else Math.random. */
export function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2);
}
