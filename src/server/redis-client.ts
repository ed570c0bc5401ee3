/**
 * The part of an ioredis client (`new Redis(...)`, ioredis 5 or later) that redisStore uses.
 * Structural, so that these types never require ioredis itself.
 */
export interface RedisClient {
  /** `ready` when commands can be sent; anything else (`connecting`, `reconnecting`, `end`, …) when not. */
  readonly status: string;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  multi(commands: (string | number)[][]): { exec(): Promise<[Error | null, unknown][] | null> };
  /** A new connection with this client's options, `override` on top. */
  duplicate(override?: Record<string, unknown>): RedisClient;
  on(event: 'error' | 'ready' | 'close' | 'end', listener: (...args: unknown[]) => void): unknown;
  off(event: 'error' | 'ready' | 'close' | 'end', listener: (...args: unknown[]) => void): unknown;
  /** Closes the connection; with `reconnect`, connects again at once. */
  disconnect(reconnect?: boolean): void;
  quit(): Promise<unknown>;
}

/**
 * The rules of every connection the store opens, whatever the client it was given says:
 * nothing waits in an offline queue or is sent again after a reconnect (a publish that failed
 * must never land later, behind newer ones), a command that gets no reply within
 * `commandTimeoutMs` fails (none for the blocking tail, which bounds its reads itself), and the
 * connection opens at once.
 */
export function connectionRules(commandTimeoutMs: number | undefined): Record<string, unknown> {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    lazyConnect: false,
  };
}

/**
 * A connection under `rules`: a duplicate of `client` when one was given (which keeps its own
 * options and stays open), else a new ioredis client for `url`.
 */
export async function openConnection(source: { client?: RedisClient | undefined; url: string }, rules: Record<string, unknown>): Promise<RedisClient> {
  let connection: RedisClient;
  if (source.client) connection = source.client.duplicate(rules);
  else {
    let Redis: typeof import('ioredis').Redis;
    try {
      ({ Redis } = await import('ioredis'));
    } catch (error) {
      throw new Error('redisStore: without a `client`, it needs the ioredis package (npm install ioredis)', { cause: error });
    }
    connection = new Redis(source.url, rules) as unknown as RedisClient;
  }
  connection.on('error', () => {}); // reported through the commands that fail
  return connection;
}

/** Waits for a connection to be ready, in call order. */
export interface ReadyGate {
  /**
   * Resolves once the connection is ready, after every earlier wait; rejects after
   * `timeoutMs`, or at once when the connection has ended for good.
   */
  wait(): Promise<void>;
  /** Rejects every wait and stops listening. */
  close(): void;
}

/**
 * One gate per connection: waits resolve in the order they were asked, so commands sent after
 * them keep the order of the calls that sent them; a wait never outlives `timeoutMs`.
 */
export function createReadyGate(connection: RedisClient, timeoutMs: number): ReadyGate {
  const waiting: Array<{ resolve(): void; reject(error: Error): void; timer: ReturnType<typeof setTimeout> }> = [];
  const settleAll = (error?: Error) => {
    for (const waiter of waiting.splice(0)) {
      clearTimeout(waiter.timer);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  };
  /** Why the connection is not ready, as ioredis last said (a refused connection, a wrong password). */
  let lastError: Error | undefined;
  const onReady = () => {
    lastError = undefined;
    settleAll();
  };
  const onEnd = () => settleAll(new Error('redisStore: the connection to Redis is closed'));
  const onError = (error: unknown) => {
    if (error instanceof Error) lastError = error;
  };
  connection.on('ready', onReady);
  connection.on('end', onEnd);
  connection.on('error', onError);

  return {
    wait() {
      if (connection.status === 'ready' && waiting.length === 0) return Promise.resolve();
      if (connection.status === 'end') return Promise.reject(new Error('redisStore: the connection to Redis is closed'));
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            waiting.splice(waiting.indexOf(waiter), 1);
            // An operator must see WRONGPASS, not only a timeout.
            const why = lastError ? `: ${lastError.message}` : '';
            reject(new Error(`redisStore: Redis was not ready within ${timeoutMs} ms${why}`, { cause: lastError }));
          }, timeoutMs),
        };
        waiting.push(waiter);
      });
    },
    close() {
      connection.off('ready', onReady);
      connection.off('end', onEnd);
      connection.off('error', onError);
      settleAll(new Error('redisStore: closed'));
    },
  };
}
