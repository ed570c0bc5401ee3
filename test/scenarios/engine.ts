// What a scenario needs of a browser, and nothing more: open a tab, run a function in it, reload
// or close it, and see or end the SharedWorker its tabs share. Each engine implements it with its
// own driver (engines/*.ts); the scenarios are written once, against this.

/** The engines the scenarios run in. */
export const ENGINES = ['chromium', 'firefox', 'webkit'] as const;
export type EngineName = (typeof ENGINES)[number];

/**
 * One tab of a {@link Context}. `evaluate` runs `fn` in the page with one JSON-serializable
 * argument and resolves with its JSON-serializable result (a promise is awaited): the function is
 * sent as source, so it may use only its argument and the page's globals.
 */
export interface Tab {
  evaluate<R>(fn: () => R | Promise<R>): Promise<R>;
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Reloads the page and resolves once it has loaded. */
  reload(): Promise<void>;
  /** Closes the tab as a user does (the page gets pagehide). */
  close(): Promise<void>;
  /**
   * Crashes the tab: SIGKILL to the process that runs it and nothing else (no pagehide, no lock
   * released by the page). Only in the engines of {@link KILLS_TABS}.
   */
  kill(): Promise<void>;
}

/**
 * The engines whose driver can crash one tab and go on. Firefox, as puppeteer starts it, runs
 * every tab of an origin and their SharedWorker in one content process (test/firefox/README.md);
 * WebKitWebDriver ends its whole session when any page's web process dies ("session deleted
 * because of page crash or hang").
 */
export const KILLS_TABS: readonly EngineName[] = ['chromium'];

/**
 * A browser profile of its own: its tabs share SharedWorkers, Web Locks and BroadcastChannels
 * with each other and with no other context.
 */
export interface Context {
  /** Opens `url` in a new tab and resolves once it has loaded. */
  openTab(url: string): Promise<Tab>;
  /**
   * The SharedWorkers running in this context, one id each; a worker that starts anew (after its
   * end) has a new id.
   */
  sharedWorkers(): Promise<string[]>;
  /** Ends the one SharedWorker of this context while its tabs live on, as a crash of the worker would. */
  killWorker(): Promise<void>;
  /** Closes every tab and the context. */
  close(): Promise<void>;
}

/** A browser engine, started once per scenario file. */
export interface Engine {
  readonly name: EngineName;
  /**
   * The worker script (`workerUrl`) for tabs whose worker a test ends with
   * {@link Context.killWorker}: Firefox's is the built worker wrapped so that it can be ended
   * (test/firefox/pages/killable-worker.js); the others' is dist/'s, as apps load it.
   */
  readonly killableWorkerUrl: string;
  /**
   * After the worker's end, the engine may keep it half-closed and never start a new one; the
   * tabs then go on through leader election 10 s after the death (Firefox ESR, test/firefox/README.md).
   */
  readonly workerMayNotRestart: boolean;
  /**
   * The platform's fetch resolves only once the first byte of the body arrives, not at the
   * headers (Firefox ESR: a response that sends headers and then nothing never opens; measured
   * here: headers flushed at once, fetch resolved 2.2 s later with the first byte, where Chromium
   * and WebKit resolve in 5 to 20 ms).
   */
  readonly fetchWaitsForBody: boolean;
  newContext(): Promise<Context>;
  close(): Promise<void>;
}
