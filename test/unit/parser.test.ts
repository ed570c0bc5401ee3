import { describe, expect, it } from 'vitest';
import { createParser, type ParserOptions, type SseParser } from '../../src/engine/parser.js';

// Every input is parsed whole and in many other chunkings (1-char chunks, cuts right after each
// CR, empty chunks, random cuts): the spec's result must not depend on where the network cut.

type Entry =
  | ['event', type: string, data: string, id: string]
  | ['id', string]
  | ['retry', number]
  | ['oversize', number];

const SPLITS = 50;

/** Deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed + 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cut points for `length` items: seed 0 none, 1 every item, 2 after every CR, others random. */
function cuts(length: number, seed: number, isCR: (i: number) => boolean): number[] {
  if (seed === 0) return [];
  if (seed === 1) return Array.from({ length }, (_, i) => i + 1);
  if (seed === 2) return Array.from({ length }, (_, i) => i + 1).filter((i) => isCR(i - 1));
  const rand = random(seed);
  const density = rand();
  const points: number[] = [];
  for (let i = 0; i <= length; i++) {
    if (rand() < density) points.push(i);
    if (rand() < 0.05) points.push(i); // an empty chunk
  }
  return points;
}

function split(input: string, seed: number): string[] {
  const chunks: string[] = [];
  let from = 0;
  for (const to of cuts(input.length, seed, (i) => input[i] === '\r')) {
    chunks.push(input.slice(from, to));
    from = to;
  }
  chunks.push(input.slice(from));
  return chunks;
}

function recorder(options?: ParserOptions): { parser: SseParser; log: Entry[] } {
  const log: Entry[] = [];
  const parser = createParser(
    {
      onEvent: (e) => log.push(['event', e.type, e.data, e.id]),
      onLastEventId: (id) => log.push(['id', id]),
      onRetry: (ms) => log.push(['retry', ms]),
      onOversize: (size) => log.push(['oversize', size]),
    },
    options,
  );
  return { parser, log };
}

function parse(chunks: string[], options?: ParserOptions): { log: Entry[]; lastEventId: string } {
  const { parser, log } = recorder(options);
  for (const chunk of chunks) parser.feed(chunk);
  return { log, lastEventId: parser.lastEventId };
}

/** Asserts the exact callbacks (and final last event id) for every chunking of `input`. */
function expectParse(input: string, log: Entry[], lastEventId = '', options?: ParserOptions): void {
  for (let seed = 0; seed < SPLITS; seed++) {
    const chunks = split(input, seed);
    expect(parse(chunks, options), `seed ${seed}: ${JSON.stringify(chunks)}`).toEqual({ log, lastEventId });
  }
}

const ev = (data: string, type = 'message', id = ''): Entry => ['event', type, data, id];

/** Bytes → parser the way the transports do it: one streaming TextDecoder per response. */
function feedResponse(parser: SseParser, chunks: Uint8Array[]): void {
  const decoder = new TextDecoder('utf-8');
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  parser.reset();
}

function bytes(...parts: (string | number[])[]): Uint8Array {
  const encoder = new TextEncoder();
  return Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...encoder.encode(p)] : p)));
}

function splitBytes(input: Uint8Array, seed: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of cuts(input.length, seed, (i) => input[i] === 13)) {
    chunks.push(input.subarray(from, to));
    from = to;
  }
  chunks.push(input.subarray(from));
  return chunks;
}

/** Asserts the callbacks for every byte chunking of a sequence of responses. */
function expectBytes(responses: Uint8Array[], log: Entry[]): void {
  for (let seed = 0; seed < SPLITS; seed++) {
    const { parser, log: actual } = recorder();
    for (const body of responses) feedResponse(parser, splitBytes(body, seed));
    expect(actual, `seed ${seed}`).toEqual(log);
  }
}

describe('decoding (bytes through a streaming TextDecoder)', () => {
  it('strips one leading BOM, even split across chunks', () => {
    expectBytes([bytes([0xef, 0xbb, 0xbf], 'data: a\n\n')], [ev('a')]);
  });

  it('treats a second BOM as part of the field name, so that line is ignored', () => {
    expectBytes([bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], 'data: a\n\ndata: b\n\n')], [ev('b')]);
  });

  it('strips the BOM of every response, and keeps a BOM inside a value', () => {
    const body = bytes([0xef, 0xbb, 0xbf], 'data: \uFEFFa\n\n');
    expectBytes([body, body], [ev('\uFEFFa'), ev('\uFEFFa')]);
  });

  it('decodes a multi-byte character split across chunks as one character', () => {
    expectBytes([bytes('data: é€𝄞\nid: ü\n\n')], [['id', 'ü'], ev('é€𝄞', 'message', 'ü')]);
  });

  it('turns invalid bytes into U+FFFD', () => {
    expectBytes(
      [
        bytes('data: a', [0xff], 'b\n', 'data: ', [0xe2, 0x82], '\n', 'data: ', [0x80, 0xc0, 0xaf], '\n\n'),
      ],
      [ev('a\uFFFDb\n\uFFFD\n\uFFFD\uFFFD\uFFFD')],
    );
  });

  it('drops an unfinished character and block at the end of a response', () => {
    expectBytes([bytes('data: x\n\ndata: ', [0xe2]), bytes('data: y\n\n')], [ev('x'), ev('y')]);
  });
});

describe('lines', () => {
  it('end at LF, CRLF or a lone CR', () => {
    expectParse('data: a\n\ndata: b\r\n\r\ndata: c\r\r', [ev('a'), ev('b'), ev('c')]);
  });

  it('mix line ends inside one event', () => {
    expectParse('data: a\r\ndata: b\rdata: c\n\r\n', [ev('a\nb\nc')]);
  });

  it('count "CR CR" and "LF CR" as two line ends', () => {
    expectParse('data: a\r\rdata: b\n\rdata: c\r\r\n', [ev('a'), ev('b'), ev('c')]);
  });

  it('join a CR at the end of a chunk and an LF at the start of the next into one line end', () => {
    const { log } = parse(['data: a\r', '\n', 'data: b\r', '\n\r', '\n']);
    expect(log).toEqual([ev('a\nb')]);
  });

  it('end a line at a trailing CR without waiting for the next chunk', () => {
    const { parser, log } = recorder();
    parser.feed('data: a\r\r');
    expect(log).toEqual([ev('a')]);
    parser.feed('\n'); // not swallowed twice: this LF is an empty line, which fires nothing
    parser.feed('data: b\r');
    parser.feed('');
    parser.feed('\n\n');
    expect(log).toEqual([ev('a'), ev('b')]);
  });

  it('never dispatch an unterminated block', () => {
    expectParse('data: a\n\ndata: b\n', [ev('a')]);
    expectParse('data: a\n\ndata: b', [ev('a')]);
  });

  it('ignore comments, which do not end the event', () => {
    expectParse(': hi\n\n:\n\n:data: x\n\ndata: a\n: comment\r\n:\rdata: b\n\n', [ev('a\nb')]);
  });

  it('split a field at the first colon and remove exactly one leading space', () => {
    expectParse(
      'data:a\ndata: b\ndata:  c\ndata:\td\ndata: e: f\ndata::\n\n',
      [ev('a\nb\n c\n\td\ne: f\n:')],
    );
  });

  it('read a line without a colon as a field with an empty value', () => {
    expectParse('data\n\ndata\ndata\n\nid\ndata: x\n\n', [ev(''), ev('\n'), ev('x')]);
  });

  it('match field names exactly', () => {
    expectParse('Data: x\n data: x\ndata\0: x\ndata : x\nDATA\n\n', []);
    expectParse('ID: 1\nid : 2\ndata: a\n\n', [ev('a')]);
    expectParse('Event: x\nevent : y\ndata: a\n\n', [ev('a')]);
    expectParse('Retry: 1\nretry : 2\nretr: 3\nretryy: 4\n\n', []);
    expectParse(
      'd\nda\ndat: x\ndatx: x\ndaxa: x\ndatum: x\ndata2: x\ni\nix: 1\nid2: 1\nidx\neven: x\nevenx: x\nexent: x\nevents: x\nretrx: 1\ndata: a\n\n',
      [ev('a')],
    );
  });

  it('ignore unknown fields', () => {
    expectParse('foo: bar\ndata: x\nidd: 1\ndatas: y\n\n', [ev('x')]);
  });
});

describe('fields', () => {
  it('data appends the value and an LF; one trailing LF is removed at dispatch', () => {
    expectParse('data: a\ndata:\n\ndata:\ndata:\n\ndata: \n\n', [ev('a\n'), ev('\n'), ev('')]);
  });

  it('event sets the type; empty means message; it is cleared after every dispatch', () => {
    expectParse(
      'event: add\ndata: 1\n\ndata: 2\n\nevent: a\nevent: b\ndata: 3\n\nevent:\ndata: 4\n\nevent: x\n\ndata: 5\n\n',
      [ev('1', 'add'), ev('2'), ev('3', 'b'), ev('4'), ev('5')],
    );
  });

  it('id sets the last event id at dispatch and it persists', () => {
    expectParse('data: a\nid: 1\n\ndata: b\n\nid:  2\ndata: c\n\n', [
      ['id', '1'],
      ev('a', 'message', '1'),
      ev('b', 'message', '1'),
      ['id', ' 2'],
      ev('c', 'message', ' 2'),
    ], ' 2');
  });

  it('an empty id resets the last event id; an unchanged id is not reported again', () => {
    expectParse('id: 1\ndata: a\n\nid: 1\ndata: b\n\nid\ndata: c\n\nid: 3\nid:\ndata: d\n\n', [
      ['id', '1'],
      ev('a', 'message', '1'),
      ev('b', 'message', '1'),
      ['id', ''],
      ev('c'),
      ev('d'),
    ]);
  });

  it('an id containing U+0000 is ignored entirely', () => {
    expectParse('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\nid: 3\nid: \0\n\n', [
      ['id', '1'],
      ev('a', 'message', '1'),
      ev('b', 'message', '1'),
      ['id', '3'],
    ], '3');
  });

  it('an id-only block updates the last event id and fires nothing', () => {
    expectParse('id: 7\n\n', [['id', '7']], '7');
  });

  it('an id is not applied before its block dispatches', () => {
    expectParse('id: 5\ndata: x\n', [], '');
  });

  it('retry with ASCII digits applies at once, even if the block never dispatches', () => {
    expectParse('retry: 3000\n', [['retry', 3000]]);
    expectParse('data: a\nretry: 03000\nretry:0\nretry:7\n\n', [
      ['retry', 3000],
      ['retry', 0],
      ['retry', 7],
      ev('a'),
    ]);
  });

  it('retry with anything but digits is ignored', () => {
    const invalid = ['-1', '+5', '1.5', '1e3', '10 ', ' 5', '', '٣', '0x10', '1_000'];
    expectParse(invalid.map((v) => `retry: ${v}\n`).join('') + 'retry\n\n', []);
  });
});

describe('dispatch', () => {
  it('fires nothing for empty lines, heartbeats and comment-only blocks', () => {
    expectParse('\n\n\r\n\r: ping\n\n:\n:\n\n', []);
  });

  it('an event-only block fires nothing and clears the type', () => {
    expectParse('event: x\n\ndata: a\n\n', [ev('a')]);
  });

  it('reports the id change before the event it belongs to', () => {
    expectParse('id: 1\nevent: t\ndata: a\n\n', [['id', '1'], ev('a', 't', '1')], '1');
  });

  it('reset() discards the unterminated line, the undispatched block and its id', () => {
    const { parser, log } = recorder();
    parser.feed('id: 1\ndata: a\n\nid: 2\nevent: x\nretry: 5\ndata: b\ndata: part');
    parser.reset();
    expect(parser.lastEventId).toBe('1');
    parser.feed('ial\n\ndata: c\n\n');
    expect(log).toEqual([['id', '1'], ev('a', 'message', '1'), ['retry', 5], ev('c', 'message', '1')]);
  });

  it('reset(id) starts the next response from the given id', () => {
    const { parser, log } = recorder();
    parser.feed('id: 1\ndata: a\n\n');
    parser.reset('42');
    expect(parser.lastEventId).toBe('42');
    parser.feed('data: b\n\nid\n\n');
    expect(log).toEqual([['id', '1'], ev('a', 'message', '1'), ev('b', 'message', '42'), ['id', '']]);
  });

  it('a callback that resets stops the rest of the chunk', () => {
    const log: string[] = [];
    const parser = createParser({
      onEvent: (e) => {
        log.push(e.data);
        parser.reset();
      },
    });
    parser.feed('data: a\n\ndata: b\n\n');
    parser.feed('data: c\n\n');
    expect(log).toEqual(['a', 'c']);
  });

  it('lets a callback feed more text re-entrantly', () => {
    const seen: string[] = [];
    const parser = createParser({
      onEvent: (e) => {
        seen.push(e.data);
        if (e.data === 'a') parser.feed('data: inner\n\n');
      },
    });
    parser.feed('data: a\n\ndata: b\n\n');
    expect(seen).toEqual(['a', 'inner', 'b']);
  });
});

describe('maxEventSize', () => {
  const max = { maxEventSize: 10 };

  it('drops only the event whose data exceeds it, and the stream goes on', () => {
    expectParse(
      'data: 0123456789\n\ndata: 01234567890\n\ndata: 12345\ndata: 1234\n\ndata: 12345\ndata: 12345\ndata: x\n\ndata: ok\n\n',
      [ev('0123456789'), ['oversize', 11], ev('12345\n1234'), ['oversize', 11], ev('ok')],
      '',
      max,
    );
  });

  it('still applies the id of a dropped event', () => {
    expectParse(
      'id: 5\nevent: big\ndata: 01234567890\n\ndata: a\n\n',
      [['oversize', 11], ['id', '5'], ev('a', 'message', '5')],
      '5',
      max,
    );
  });

  it('counts a huge line instead of buffering it, with the same result for any chunking', () => {
    const big = 'x'.repeat(100);
    expectParse(
      `data: ${big}\ndata:${big}\n\ndata: abc\ndata: ${big}\n\n: ${big}\ndata: a\n\nevent: ${big}\ndata: b\n\nid: ${big}\ndata: c\n\nretry: ${'1'.repeat(100)}\nretry: ${big}\nfoo: ${big}\n${big}\ndata: d\n\n`,
      [['oversize', 100], ['oversize', 104], ev('a'), ['oversize', 107], ['oversize', 104], ev('d')],
      '',
      max,
    );
  });

  it('reports a huge data line fed in small chunks once, and delivers the next event', () => {
    const { parser, log } = recorder({ maxEventSize: 1024 });
    parser.feed('data: ');
    for (let i = 0; i < 10_000; i++) parser.feed('y'.repeat(100));
    parser.feed('\n\ndata: next\n\n');
    expect(log).toEqual([['oversize', 1_000_000], ev('next')]);
  });
});

describe('long lines', () => {
  it('does not keep an over-long line: one longer than the largest string the engine allows', () => {
    const { parser, log } = recorder({ maxEventSize: 1024 });
    const mib = 'y'.repeat(1 << 20);
    parser.feed('data: ');
    for (let i = 0; i < 520; i++) parser.feed(mib); // joining these pieces would throw a RangeError
    parser.feed('\n\ndata: next\n\n');
    expect(log).toEqual([['oversize', 520 << 20], ev('next')]);
  });

  it('parses a 4 MiB line fed in 100-char chunks (linear time)', () => {
    const { parser, log } = recorder();
    const piece = 'z'.repeat(100);
    parser.feed('data: ');
    for (let i = 0; i < 41_944; i++) parser.feed(piece);
    parser.feed('\r');
    parser.feed('\n\n');
    expect(log).toHaveLength(1);
    const [kind, type, data] = log[0] as ['event', string, string, string];
    expect([kind, type, data.length]).toEqual(['event', 'message', 4_194_400]);
    expect(/^z+$/.test(data)).toBe(true);
  });
});

/** The spec applied to a whole string, line by line: the oracle for random inputs. */
function reference(input: string): Entry[] {
  const log: Entry[] = [];
  const lines = input.split(/\r\n|\r|\n/);
  lines.pop(); // unterminated (or empty after the last line end)
  let data = '';
  let type = '';
  let idBuffer = '';
  let lastId = '';
  for (const line of lines) {
    if (line === '') {
      if (idBuffer !== lastId) log.push(['id', (lastId = idBuffer)]);
      if (data !== '') log.push(ev(data.endsWith('\n') ? data.slice(0, -1) : data, type || 'message', lastId));
      data = type = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const name = i === -1 ? line : line.slice(0, i);
    let value = i === -1 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') data += value + '\n';
    else if (name === 'event') type = value;
    else if (name === 'id' && !value.includes('\0')) idBuffer = value;
    else if (name === 'retry' && /^[0-9]+$/.test(value)) log.push(['retry', Number(value)]);
  }
  return log;
}

describe('random streams', () => {
  const tokens = ['data', 'data:', 'data: ', 'event:', 'event: ', 'id:', 'id: ', 'retry:', 'retry: ', ':', ' ',
    'x', 'é', '𝄞', '1', '0', '\0', '\t', '-', 'Data', '\n', '\n', '\n', '\r', '\r', '\r\n', '\n\n', '\r\r'];

  it('match the line-by-line reading of the spec in every chunking', () => {
    for (let n = 0; n < 200; n++) {
      const rand = random(1000 + n);
      let input = '';
      for (let i = 0; i < 150; i++) input += tokens[Math.floor(rand() * tokens.length)];
      const expected = reference(input);
      for (let seed = 0; seed < 12; seed++) {
        const chunks = split(input, seed);
        expect(parse(chunks).log, `input ${JSON.stringify(input)}, seed ${seed}`).toEqual(expected);
      }
    }
  });
});
