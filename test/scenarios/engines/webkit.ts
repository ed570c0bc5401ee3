import type { Context, Engine, Tab } from '../engine.js';
import { sharedWorkerThreads } from '../../webkit/processes.js';
import { startWebDriver, startXvfb, WebDriverSession } from '../../webkit/webdriver.js';

// WebKitGTK (Safari's engine) in MiniBrowser, through WebKitWebDriver on Xvfb
// (test/webkit/webdriver.ts). A context is a WebDriver session: its windows share SharedWorkers,
// Web Locks and BroadcastChannels, as a profile's tabs do, and no other session's.

/** Starts Xvfb and WebKitWebDriver; each context is a MiniBrowser of its own. */
export async function launchWebKit(): Promise<Engine> {
  const xvfb = await startXvfb();
  const driver = await startWebDriver(xvfb.display).catch(async (error) => {
    await xvfb.stop();
    throw error;
  });
  return {
    name: 'webkit',
    killableWorkerUrl: '/dist/ssemux-worker.js',
    fetchWaitsForBody: false,
    workerMayNotRestart: false,
    newContext: async () => newContext(await WebDriverSession.create(driver.url), driver.groupId),
    close: async () => {
      await driver.stop();
      await xvfb.stop();
    },
  };
}

function newContext(session: WebDriverSession, groupId: number): Context {
  return {
    async openTab(url) {
      const window = await session.newWindow();
      await session.run(window, (send) => send('POST', '/url', { url }));
      return tab(session, window);
    },
    // Every MiniBrowser of this driver is in its group; one context runs at a time.
    sharedWorkers: async () => sharedWorkerThreads(groupId),
    async killWorker() {
      const threads = sharedWorkerThreads(groupId);
      if (threads.length !== 1) throw new Error(`expected one SharedWorker thread, found ${threads.length}`);
      // The worker's web process: WebKit starts the worker anew in another window's process.
      process.kill(Number(threads[0]!.split('/')[0]), 'SIGKILL');
    },
    close: () => session.end(),
  };
}

function tab(session: WebDriverSession, window: string): Tab {
  return {
    evaluate: <A, R>(fn: (arg: A) => R | Promise<R>, arg?: A) =>
      session.run(window, async (send) => {
        // execute/async hands the script a callback as its last argument; a page function that
        // throws comes back as `error`, so that the test fails with the page's message. The value
        // crosses as JSON text: WebDriver would turn an undefined property into null, where the
        // other drivers leave it out, as JSON does.
        const script = `const done = arguments[arguments.length - 1];
          Promise.resolve().then(() => (${fn.toString()})(arguments[0])).then(
            (value) => done({ json: JSON.stringify(value) }),
            (error) => done({ error: String((error && error.stack) || error) }),
          );`;
        const answer = await send<{ json?: string | null; error?: string }>('POST', '/execute/async', { script, args: [arg ?? null] });
        if (answer.error !== undefined) throw new Error(`in the page: ${answer.error}`);
        return (typeof answer.json === 'string' ? JSON.parse(answer.json) : undefined) as R;
      }),
    reload: () => session.run(window, (send) => send('POST', '/refresh')).then(() => undefined),
    close: () => session.closeWindow(window),
    kill: () => Promise.reject(new Error('WebKitWebDriver ends the session when a page crashes: no tab can crash alone')),
  };
}
