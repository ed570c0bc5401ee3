/**
 * The control plane between tabs and a hub (a SharedWorker or a leader tab): Comlink's model,
 * calls of an object exposed at the other end of a message endpoint, in the part ssemux uses
 * (methods with cloneable arguments). Comlink itself cost 1.5 KB of the tab's 5 KB and 1.8 KB of
 * the worker's 9 KB. Unlike Comlink, a call nobody awaits is sent without asking for an answer
 * ({@link notifier}: every call of a tab to its hub), and a call whose peer is gone settles when
 * the caller lets the peer go.
 *
 * A call is `{ m: method, a: arguments, i?: id }`; the answer to a call with an id is
 * `{ i, v: value }` or `{ i, e: error }`. Both directions may share one endpoint: calls have `m`.
 */

/** Where messages go and come from: a MessagePort, or a channel lane to one tab. */
export interface Endpoint {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  start?(): void;
}

/** A call of a method of `T`, as it travels. */
export interface Call {
  m: string;
  a: unknown[];
  /** Present when the caller waits for the answer. */
  i?: number;
}

/** The answer to a {@link Call} with an id. */
export interface Answer {
  i: number;
  v?: unknown;
  e?: { message: string; name?: string; code?: string };
  m?: undefined;
}

/** The methods of `T`, called across the endpoint: each returns a promise of its answer. */
export type Remote<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };
/** The methods of `T`, called across the endpoint without waiting for an answer. */
export type Notify<T> = { [K in keyof T]: T[K] extends (...args: infer A) => unknown ? (...args: A) => void : never };

/**
 * Answers calls that arrive on `endpoint` with the methods of `target`, in the order they came.
 * Returns the function that stops answering.
 */
export function expose(target: object, endpoint: Endpoint): () => void {
  const listener = ({ data }: MessageEvent<Call>) => {
    if (typeof data?.m !== 'string') return;
    const { i, m, a } = data;
    // Called now, not after a tick: calls are handled in the order they were sent.
    const result = new Promise((resolve) => resolve((target as Record<string, (...a: unknown[]) => unknown>)[m]!(...a)));
    if (i === undefined) return void result.catch(() => {});
    result.then(
      (v) => endpoint.postMessage({ i, v } satisfies Answer),
      (error: Answer['e']) => endpoint.postMessage({ i, e: { message: String(error?.message ?? error), name: error?.name, code: error?.code } } satisfies Answer),
    );
  };
  endpoint.addEventListener('message', listener);
  endpoint.start?.();
  return () => endpoint.removeEventListener('message', listener);
}

/** The calls of the object exposed at the other end of `endpoint`, sent without asking for an answer. */
export function notifier<T>(endpoint: Endpoint): Notify<T> {
  return new Proxy({} as Notify<T>, {
    get: (_, m) => (...a: unknown[]) => endpoint.postMessage({ m, a } as Call),
  });
}
