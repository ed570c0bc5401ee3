import type { Transport } from './transport.js';

/** Past this many characters of responseText the request is recycled, so memory stays bounded. */
const RECYCLE_AT = 4 * 1024 * 1024;

/**
 * XHR streaming for browsers without fetch streams: `responseText` grows while the response
 * arrives, and each progress event hands over the new part. Loaded as its own chunk, only
 * when chosen.
 */
export const xhrTransport: Transport = (request, sink) => {
  const xhr = new XMLHttpRequest();
  let seen = 0;
  let opened = false;
  let finished = false;
  const finish = (run: () => void) => {
    if (finished || request.signal.aborted) return;
    finished = true;
    run();
  };
  const flush = () => {
    const text = xhr.responseText;
    if (text.length > seen) {
      sink.text(text.slice(seen));
      seen = text.length;
    }
  };
  xhr.open(request.method, request.url, true);
  xhr.withCredentials = request.withCredentials;
  // The body of an event stream is UTF-8 whatever charset the response names.
  xhr.overrideMimeType('text/plain; charset=utf-8');
  for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
  xhr.onreadystatechange = () => {
    if (xhr.readyState < XMLHttpRequest.HEADERS_RECEIVED || opened || finished) return;
    opened = true;
    if (xhr.status === 0) return; // a network error: onerror follows
    if (!sink.response(xhr.status, (name) => xhr.getResponseHeader(name))) {
      finished = true;
      xhr.abort();
    }
  };
  xhr.onprogress = () => {
    if (finished || !opened) return;
    flush();
    if (seen > RECYCLE_AT) finish(() => { xhr.abort(); sink.end(true); });
  };
  xhr.onload = () => finish(() => { flush(); sink.end(false); });
  xhr.onerror = () => finish(() => sink.error(new Error('XHR failed')));
  request.signal.addEventListener('abort', () => { finished = true; xhr.abort(); }, { once: true });
  xhr.send(request.body ?? null);
};
