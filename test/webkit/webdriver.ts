import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/free-port.js';
import { miniBrowserPath, webkitDriverPath, xvfbPath } from '../support/webkit.js';

// WebKitGTK driven by its own WebDriver (WebKitWebDriver) over plain W3C WebDriver: it speaks no
// BiDi and has no log endpoint, so this small client over fetch is all the suite needs. MiniBrowser
// runs on a virtual X display of its own (Xvfb), so nothing needs a real screen.

/** A child started in a process group of its own, so that ending the group ends its children too. */
interface Group {
  child: ChildProcess;
  /** The last 4,000 characters it wrote to stderr, for an error that says why it failed. */
  stderr(): string;
  /** Resolves when the leader has exited (or never started). */
  exited: Promise<void>;
  gone(): boolean;
  /** Ends the whole group (SIGTERM, then SIGKILL after 2 s) and waits until its leader is gone. */
  stop(): Promise<void>;
}

/** Starts `command`; `extraPipes` opens pipes on fds 3, 4, ... beside stderr (fd 2). */
function startGroup(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; extraPipes?: number } = {}): Group {
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'ignore', 'pipe'];
  for (let i = 0; i < (options.extraPipes ?? 0); i++) stdio.push('pipe');
  const child = spawn(command, args, { env: options.env ?? process.env, stdio, detached: true });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  let gone = false;
  // A missing binary emits 'error' and never 'exit': either means there is nothing left to wait for.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve(void (gone = true)));
    child.once('error', () => resolve(void (gone = true)));
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // The group is gone already.
    }
  };
  return {
    child,
    stderr: () => stderr,
    exited,
    gone: () => gone,
    stop: async () => {
      if (gone) return signal('SIGKILL');
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
      // Children of the group that outlived their leader (MiniBrowser's web processes).
      signal('SIGKILL');
    },
  };
}

/** A virtual X display on a free display number (Xvfb picks it and writes it on a pipe: -displayfd). */
export async function startXvfb(): Promise<{ display: string; stop: () => Promise<void> }> {
  const group = startGroup(xvfbPath(), ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { extraPipes: 1 });
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    group.child.stdio[3]!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    group.exited.then(() => reject(new Error(`Xvfb (${xvfbPath()}) did not start: ${group.stderr()}`)));
  });
  return { display, stop: group.stop };
}

/** WebKitWebDriver on a free port of 127.0.0.1, on `display`; resolves once it answers /status. */
export async function startWebDriver(display: string): Promise<{ url: string; groupId: number; stop: () => Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const group = startGroup(webkitDriverPath(), [`--port=${port}`, '--host=127.0.0.1'], { env: { ...process.env, DISPLAY: display } });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (!group.gone() && Date.now() < deadline) {
      const ready = await fetch(`${url}/status`).then(
        async (res) => res.ok && ((await res.json()) as { value: { ready: boolean } }).value.ready,
        () => false,
      );
      if (ready) return { url, groupId: group.child.pid!, stop: group.stop };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await group.stop();
    // Another process may have taken the port between freePort() and the bind.
    if (attempt === 3) throw new Error(`WebKitWebDriver (${webkitDriverPath()}) did not start: ${group.stderr()}`);
  }
}

/** An error the driver answered with: W3C's `error` code and its message. */
export class WebDriverError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * One WebDriver session: one MiniBrowser whose windows share SharedWorkers, Web Locks and
 * BroadcastChannels, as the tabs of one browser profile do. Commands act on the current window,
 * so each command runs alone, after switching to the window it is for: the session is a queue.
 */
export class WebDriverSession {
  private queue: Promise<unknown> = Promise.resolve();
  private current: string | undefined;

  private constructor(
    private readonly base: string,
    /** The window MiniBrowser opened with: it stays on about:blank, so that closing every tab of a test does not end the session. */
    readonly anchor: string,
  ) {}

  static async create(driverUrl: string): Promise<WebDriverSession> {
    const capabilities = { alwaysMatch: { 'webkitgtk:browserOptions': { binary: miniBrowserPath(), args: ['--automation'] } } };
    const { sessionId } = await send<{ sessionId: string }>(driverUrl, 'POST', '/session', { capabilities });
    const base = `${driverUrl}/session/${sessionId}`;
    const [anchor] = await send<string[]>(base, 'GET', '/window/handles');
    const session = new WebDriverSession(base, anchor!);
    session.current = anchor;
    return session;
  }

  /** Runs `command` in `window` (the current one when omitted), after every command queued before it. */
  run<T>(window: string | undefined, command: (send: <R>(method: string, path: string, body?: unknown) => Promise<R>) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      if (window !== undefined && window !== this.current) {
        await send(this.base, 'POST', '/window', { handle: window });
        this.current = window;
      }
      return command((method, path, body) => send(this.base, method, path, body));
    });
    this.queue = next.catch(() => {});
    return next;
  }

  /** A new visible window (a `tab` would be a hidden one, which a browser may throttle). */
  newWindow(): Promise<string> {
    // From the anchor: a command needs a current window that is still open.
    return this.run(this.anchor, async (send) => (await send<{ handle: string }>('POST', '/window/new', { type: 'window' })).handle);
  }

  /** Closes `window`; the session lives on as long as its anchor window does. */
  closeWindow(window: string): Promise<void> {
    return this.run(window, async (send) => {
      await send('DELETE', '/window');
      this.current = undefined;
    });
  }

  /** Ends the session: MiniBrowser quits. */
  end(): Promise<void> {
    return this.run(this.anchor, (send) => send('DELETE', '')).then(() => undefined);
  }
}

async function send<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body),
  });
  const answer = (await res.json()) as { value: T & { error?: string; message?: string } };
  if (!res.ok) throw new WebDriverError(answer.value.error ?? String(res.status), answer.value.message ?? '');
  return answer.value;
}
