// The EventSource implementations the suite compares, each loaded into the realm that imports
// this module (the runner page, or a frame of it for the cases about realms and base URLs).

/** What the suite calls each kind in its report. */
export const LABELS = { ssemux: 'SharedEventSource', platform: 'EventSource', polyfill: 'event-source-polyfill' };

/** The class under test for `kind`, in this realm. */
export async function load(kind) {
  if (kind === 'platform') return globalThis.EventSource;
  if (kind === 'polyfill') {
    if (!globalThis.EventSourcePolyfill) {
      await new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = '/vendor/event-source-polyfill/eventsource.js';
        script.onload = resolve;
        script.onerror = () => reject(new Error(`${script.src} did not load (is event-source-polyfill installed? npm install)`));
        document.head.append(script);
      });
    }
    return globalThis.EventSourcePolyfill;
  }
  const { SharedEventSource } = await import('/dist/ssemux-eventsource.js');
  // As an app migrates: the platform's arguments, and the worker URL that lets tabs share.
  return class extends SharedEventSource {
    constructor(url, init = {}) {
      super(url, { workerUrl: '/dist/ssemux-worker.js', ...init });
    }
  };
}
