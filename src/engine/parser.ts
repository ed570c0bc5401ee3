/**
 * The streaming Server-Sent Events parser every transport feeds (rules: docs/sse-rules.md).
 *
 * It works on decoded text, keeps no DOM dependency (it runs in workers) and is the hot path of
 * the library: it finds line ends with `indexOf` (remembering the next CR and LF of a chunk rather
 * than searching again for every line), matches field names by char code without slicing them,
 * and joins a line split across chunks exactly once.
 */
import type { WireEvent } from '../protocol/types.js';

/** What the parser reports. Only `onEvent` is required. */
export interface ParserCallbacks {
  /** A dispatched event. `id` is the stream's last event id at dispatch. */
  onEvent(event: WireEvent): void;
  /** The stream's last event id changed at a dispatch (also for id-only blocks that fire no event). */
  onLastEventId?(id: string): void;
  /** A valid `retry:` field (ASCII digits only), applied at once even if the block never dispatches. */
  onRetry?(ms: number): void;
  /**
   * An event's data grew beyond maxEventSize: it was dropped (the parser keeps going). `size` is
   * the data size the event reached (for an over-long `event:`/`id:` line, that line's length).
   */
  onOversize?(size: number): void;
}

/** Options of {@link createParser}. */
export interface ParserOptions {
  /** max data size of one event in UTF-16 code units. @default Infinity */
  maxEventSize?: number;
}

/** A parser for one stream; `reset()` between responses. */
export interface SseParser {
  /** Feeds decoded text (the caller decodes UTF-8 with a streaming TextDecoder, which strips the one BOM). */
  feed(chunk: string): void;
  /**
   * End of a response: discards an unterminated line and an undispatched block (its id is NOT
   * remembered), and sets the last-event-id buffer to `lastEventId` (the last *dispatched* id)
   * for the next response.
   */
  reset(lastEventId?: string): void;
  /** The stream's last event id (as of the last dispatch). */
  readonly lastEventId: string;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const DIGITS = /^[0-9]+$/;
/** Fields whose over-long line must drop the event rather than be silently ignored. */
const DROPPING_FIELD = /^(?:data|event|id):/;

// What an over-long line turned out to be once its start was seen:
const SKIP_NONE = 0;
/** Comment, `retry` or unknown field: ignoring it is what the spec does anyway. */
const SKIP_IGNORE = 1;
/** `data`: the event is dropped. */
const SKIP_DATA = 2;
/** `event` / `id`: delivering the event with a wrong type or id would be worse than dropping it. */
const SKIP_DROP = 3;

/**
 * Creates a spec-true streaming SSE parser.
 *
 * @example
 * const parser = createParser({ onEvent: (e) => console.log(e.type, e.data) });
 * parser.feed('data: hello\n\n');
 */
export function createParser(callbacks: ParserCallbacks, options: ParserOptions = {}): SseParser {
  const { onEvent, onLastEventId, onRetry, onOversize } = callbacks;
  const maxSize = options.maxEventSize ?? Infinity;
  // Longer than this, a line is too big for any data value ("data: " is 6 units), so its
  // pieces are counted, not kept.
  const maxLine = maxSize + 6;

  let lastId = '';
  let idBuffer = '';
  let type = '';
  let data = '';
  /** Distinguishes "no data line" from `data:` lines that left an empty string. */
  let hasData = false;
  /** The block's event was dropped for size: its data lines are ignored until it ends. */
  let oversize = false;

  /** Pieces of a line split across chunks, joined once when the line ends. */
  let pieces: string[] = [];
  let pendingLength = 0;
  let skip: number = SKIP_NONE;
  /** Length of the value prefix ("data:" or "data: ") of a skipped data line. */
  let skipPrefix = 0;
  /** The previous chunk ended with CR: an LF starting the next one belongs to that line end. */
  let skipLF = false;
  /** Bumped by reset(), so a callback that resets stops the feed() that called it. */
  let epoch = 0;

  function dispatch(): void {
    if (idBuffer !== lastId) {
      lastId = idBuffer;
      onLastEventId?.(lastId);
    }
    // Buffers are cleared before the callback, so a callback that feeds or resets sees a clean state.
    const event: WireEvent | undefined = hasData ? { type: type || 'message', data, id: lastId } : undefined;
    type = '';
    data = '';
    hasData = false;
    oversize = false;
    if (event) onEvent(event);
  }

  function drop(size: number): void {
    if (oversize) return;
    oversize = true;
    data = '';
    hasData = false;
    onOversize?.(size);
  }

  /**
   * A non-empty line `s[start, end)`. Lines longer than `maxLine` are judged as when they arrive
   * in pieces (see keep()), so that the result never depends on where the network cut the stream.
   */
  function line(s: string, start: number, end: number): void {
    // Match the known names by char code, first char first: no name slice, no colon search, no
    // startsWith() call on the hot path. The char at `end` is CR or LF (or past the string), so a
    // comparison never matches beyond the line.
    const c0 = s.charCodeAt(start);
    let nameLength: number;
    if (c0 === 100) {
      if (s.charCodeAt(start + 1) !== 97 || s.charCodeAt(start + 2) !== 116 || s.charCodeAt(start + 3) !== 97) return;
      nameLength = 4; // data
    } else if (c0 === 105) {
      if (s.charCodeAt(start + 1) !== 100) return;
      nameLength = 2; // id
    } else if (c0 === 101) {
      if (s.charCodeAt(start + 1) !== 118 || s.charCodeAt(start + 2) !== 101 || s.charCodeAt(start + 3) !== 110 || s.charCodeAt(start + 4) !== 116) return;
      nameLength = 5; // event
    } else if (c0 === 114) {
      if (!s.startsWith('etry', start + 1)) return;
      nameLength = 5; // retry
    } else {
      return; // a comment, an unknown field
    }
    const colon = start + nameLength;
    if (colon < end && s.charCodeAt(colon) !== COLON) return; // a longer, unknown name
    let valueStart = colon + 1;
    if (valueStart < end && s.charCodeAt(valueStart) === SPACE) valueStart++;
    if (c0 === 100) {
      if (oversize) return;
      const v = s.slice(valueStart, end);
      const size = hasData ? data.length + 1 + v.length : v.length;
      if (size > maxSize) return drop(size);
      data = hasData ? data + '\n' + v : v;
      hasData = true;
    } else if (c0 === 114) {
      const v = s.slice(valueStart, end);
      if (end - start <= maxLine && DIGITS.test(v)) onRetry?.(parseInt(v, 10));
    } else if (end - start > maxLine) {
      drop(end - start);
    } else if (c0 === 101) {
      type = s.slice(valueStart, end);
    } else {
      const v = s.slice(valueStart, end);
      if (!v.includes('\0')) idBuffer = v;
    }
  }

  /** The rest of a chunk holds no line end: keep it (or count it, if the line is over-long). */
  function keep(piece: string): void {
    pendingLength += piece.length;
    if (skip !== SKIP_NONE) return;
    pieces.push(piece);
    if (!(pendingLength > maxLine)) return; // written so that a NaN limit means none, as in line()
    let head = '';
    for (const p of pieces) if ((head += p).length >= 6) break;
    pieces = [];
    skip = DROPPING_FIELD.test(head) ? (head.startsWith('data') ? SKIP_DATA : SKIP_DROP) : SKIP_IGNORE;
    skipPrefix = head.charCodeAt(5) === SPACE ? 6 : 5;
  }

  /** A line begun in earlier chunks ends with `tail`. */
  function endPending(tail: string): void {
    const length = pendingLength + tail.length;
    pendingLength = 0;
    if (skip === SKIP_NONE) {
      pieces.push(tail);
      const s = pieces.join('');
      pieces = [];
      line(s, 0, s.length);
    } else {
      if (skip === SKIP_DATA) drop((hasData ? data.length + 1 : 0) + length - skipPrefix);
      else if (skip === SKIP_DROP) drop(length);
      skip = SKIP_NONE;
    }
  }

  function feed(chunk: string): void {
    const len = chunk.length;
    if (len === 0) return;
    let pos = 0;
    if (skipLF) {
      skipLF = false;
      if (chunk.charCodeAt(0) === LF) pos = 1;
    }
    const myEpoch = epoch;
    // Next known line-end positions in this chunk; -1 = none left, -2 = not searched yet. Searching
    // again only once passed keeps the scan linear even when one of them is rare or absent.
    let lf = -2;
    let cr = -2;
    while (pos < len) {
      if (lf !== -1 && lf < pos) lf = chunk.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = chunk.indexOf('\r', pos);
      const end = lf === -1 ? cr : cr === -1 || lf < cr ? lf : cr;
      if (end === -1) {
        keep(pos === 0 ? chunk : chunk.slice(pos));
        return;
      }
      let next = end + 1;
      if (chunk.charCodeAt(end) === CR) {
        // A CR ends the line now; the LF of a CRLF split across chunks is swallowed later.
        if (next === len) skipLF = true;
        else if (chunk.charCodeAt(next) === LF) next++;
      }
      if (pendingLength !== 0) endPending(chunk.slice(pos, end));
      else if (end === pos) dispatch();
      else line(chunk, pos, end);
      if (epoch !== myEpoch) return;
      pos = next;
    }
  }

  function reset(lastEventId: string = lastId): void {
    epoch++;
    lastId = idBuffer = lastEventId;
    type = data = '';
    hasData = oversize = skipLF = false;
    pieces = [];
    pendingLength = 0;
    skip = SKIP_NONE;
  }

  return {
    feed,
    reset,
    get lastEventId() {
      return lastId;
    },
  };
}
