/**
 * What a relative URL resolves against, as `fetch` and `EventSource` resolve it: the document's
 * base URL (a `<base href>`), else the realm's location (a worker); none on a server.
 */
export function baseUrl(): string | undefined {
  const g = globalThis as { document?: { baseURI: string }; location?: { href: string } };
  return g.document?.baseURI ?? g.location?.href;
}
