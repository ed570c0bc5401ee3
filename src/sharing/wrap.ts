import type { Answer, Call, Endpoint, Remote } from './rpc.js';

/**
 * The object exposed at the other end of `endpoint`, and the function that lets the other end
 * go (calls still waiting are rejected: their answer will never come).
 */
export function wrap<T>(endpoint: Endpoint): [call: Remote<T>, release: () => void] {
  let next = 0;
  const pending = new Map<number, [(value: unknown) => void, (error: Error) => void]>();
  const listener = ({ data }: MessageEvent<Answer>) => {
    const waiting = data?.m === undefined && pending.get(data?.i);
    if (!waiting) return;
    pending.delete(data.i);
    if (data.e) waiting[1](Object.assign(new Error(), data.e));
    else waiting[0](data.v);
  };
  endpoint.addEventListener('message', listener);
  endpoint.start?.();
  const call = new Proxy({} as Remote<T>, {
    get: (_, m) => (...a: unknown[]) =>
      new Promise((resolve, reject) => {
        const i = ++next;
        pending.set(i, [resolve, reject]);
        endpoint.postMessage({ m, a, i } as Call);
      }),
  });
  return [
    call,
    () => {
      endpoint.removeEventListener('message', listener);
      for (const [, reject] of pending.values()) reject(new Error('The other side is gone'));
      pending.clear();
    },
  ];
}
