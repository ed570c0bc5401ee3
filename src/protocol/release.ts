declare const __SSEMUX_VERSION__: string;

/**
 * Version of the tab-hub contract (./tab-hub-messages.ts). Bump it on any change there. Together
 * with the package version it names the worker, the locks and the channels ({@link NAMESPACE}),
 * so a tab never talks to a hub of another release: two releases side by side run two hubs.
 */
export const PROTOCOL_VERSION = 6;

/** The package version, set by the build. */
export const VERSION: string = typeof __SSEMUX_VERSION__ === 'string' ? __SSEMUX_VERSION__ : '0.0.0-dev';

/** Prefix of every worker, lock and channel name of a release: `ssemux@<version>/<protocol>`. */
export function namespaceOf(version: string): string {
  return `ssemux@${version}/${PROTOCOL_VERSION}`;
}

/** Prefix of every worker, lock and channel name of this release. */
export const NAMESPACE = namespaceOf(VERSION);
