import { PROTOCOL_VERSION } from '../protocol/release.js';
import type { StatusError } from '../protocol/types.js';
import type { TabContext } from './tab-context.js';

/**
 * Why a tab gives up on its SharedWorker: it cannot be created (`start`), reports an error
 * (`error`), never welcomes the tab (`silent`), speaks another protocol (`protocol`, `detail`
 * the version it speaks) or keeps dying (`dying`). `slow`: it has not welcomed the tab yet, and
 * may only be slow.
 */
export type WorkerFailure = 'start' | 'error' | 'silent' | 'protocol' | 'dying' | 'slow';

/**
 * The error a tab reports when it gives up on the worker at `url`, saying what went wrong; for
 * `slow`, an error only when the URL serves something that cannot be the worker. A chunk of its
 * own: a page whose worker answers never loads it.
 */
export async function explainFailure(context: TabContext, url: string, why: WorkerFailure, detail?: unknown): Promise<StatusError | undefined> {
  const error = (code: StatusError['code'], what: string): StatusError => ({ name: 'RealtimeError', code, message: `The SharedWorker at ${url} ${what}` });
  if (why === 'protocol') return error('protocol-mismatch', `speaks protocol ${String(detail)}, this tab ${PROTOCOL_VERSION}`);
  if (why === 'dying') return error('sharing-unavailable', 'keeps dying');
  if (why === 'start' && !/^(data|blob):/.test(url)) return error('sharing-unavailable', `cannot start: ${(detail as Error)?.message ?? String(detail)}`);
  // Each worker URL is looked at once per page, and a problem reported once in the console.
  const found = await context.once(`looked:${url}`, () => lookAt(url, context.namespace));
  if (found) return error('sharing-unavailable', found);
  return why === 'slow' ? undefined : error('sharing-unavailable', why === 'silent' ? 'did not answer' : 'failed to start');
}

/**
 * What a wrong worker URL serves, found by looking at it: a worker that never answers, or fails
 * to start, most often runs something else (an HTML fallback page, a 404, another script), or was
 * inlined as a `data:` URL by a bundler. Undefined when it may well be the worker.
 */
async function lookAt(url: string, namespace: string): Promise<string | undefined> {
  let problem: string | undefined;
  if (url.startsWith('data:')) problem = 'is a data: URL (a bundler inlined it: see build.assetsInlineLimit), and no two tabs share such a worker';
  else if (url.startsWith('blob:')) problem = 'is a blob: URL, and no two tabs share such a worker';
  else {
    try {
      const response = await fetch(url);
      const type = response.headers.get('content-type') ?? '';
      const text = response.ok ? await response.text() : '';
      if (!response.ok) problem = `answers ${response.status}`;
      // An HTML page: a single-page app's fallback route answers every path.
      else if (/html/i.test(type) || /^\s*</.test(text)) problem = 'serves an HTML page';
      // The worker names itself by its release; a worker of another release (a stale copy, a
      // cached file) otherwise; a script of the app that imports it (in development) by its path.
      else if (!text.includes(namespace)) {
        const release = /ssemux@[^/`'"\s]+\/\d+/.exec(text)?.[0];
        if (release) problem = `serves the worker of another release (${release}, this page runs ${namespace})`;
        else if (!text.includes('ssemux/worker')) problem = 'serves a script that is not the ssemux worker';
      }
    } catch {
      // Unreachable: nothing to tell from here.
    }
  }
  if (problem) {
    const shown = url.length > 80 ? `${url.slice(0, 60)}…` : url;
    console.warn(`ssemux: the worker URL ${shown} ${problem}; sharing falls back to the next mode. Serve dist/ssemux-worker.js there (with Vite: workerUrl: new URL('ssemux/worker', import.meta.url)).`);
  }
  return problem;
}
