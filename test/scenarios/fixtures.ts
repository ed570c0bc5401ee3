import { inject, test as base } from 'vitest';
import { startServer, type DemoServer } from '../support/test-server.js';
import type { Context, Engine, EngineName } from './engine.js';
import { launchEngine } from './engines/launch.js';

export { expect } from 'vitest';

/** The engine this run is for, known before any browser starts: some scenarios exist only where the engine can run them. */
export const engineName = (): EngineName => inject('engine');

declare module 'vitest' {
  export interface ProvidedContext {
    /** The engine this project runs the scenarios in (vitest.config.ts). */
    engine: EngineName;
  }
}

/**
 * Vitest's `test` with what every scenario needs: `engine`, one browser per file; `context`, a
 * fresh browser context (its own storage, workers, locks and channels) per test; `server`, a fresh
 * demo server per test. Each is closed after use, also when the test fails.
 */
export const test = base
  .extend('engine', { scope: 'file' }, async ({}, { onCleanup }): Promise<Engine> => {
    const engine = await launchEngine(inject('engine'));
    onCleanup(() => engine.close());
    return engine;
  })
  .extend('context', async ({ engine }, { onCleanup }): Promise<Context> => {
    const context = await engine.newContext();
    onCleanup(() => context.close());
    return context;
  })
  .extend('server', async ({}, { onCleanup }): Promise<DemoServer> => {
    const server = await startServer();
    onCleanup(() => server.close());
    return server;
  });
