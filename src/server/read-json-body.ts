import type { IncomingMessage } from 'node:http';

/** Why a body could not be read: answered with `status`. */
export interface BodyError {
  status: 400 | 413;
  error: string;
}

/**
 * The JSON body of a request. A body that a framework already parsed (`req.body`, as
 * express.json() leaves it) is taken as it is; otherwise the stream is read here, up to
 * `limit` bytes. Resolves with `undefined` when there is no JSON body to read.
 */
export async function readJsonBody(req: IncomingMessage & { body?: unknown }, limit: number): Promise<{ value: unknown } | BodyError | undefined> {
  if (!isJson(req.headers['content-type'])) return undefined;
  if (req.body !== undefined) {
    if (typeof req.body !== 'string') return { value: req.body };
    return parse(req.body);
  }
  // Something else consumed the stream without leaving a body behind.
  if (req.readableEnded) return undefined;
  const text = await readText(req, limit);
  if (text === null) return { status: 413, error: `body over ${limit} bytes` };
  return text.trim() === '' ? undefined : parse(text);
}

/**
 * The body as text, or null once it passes `limit` bytes. The rest is never read: the request
 * stays paused, and the response (a `413` with `Connection: close`) closes the connection.
 */
function readText(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      chunks.length = 0;
      resolve(null);
    };
    req.on('data', onData);
    // A client that leaves mid-body is noticed by the caller through the response closing.
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('close', () => resolve(''));
  });
}

function parse(text: string): { value: unknown } | BodyError {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { status: 400, error: 'body is not valid JSON' };
  }
}

/** `application/json`, or any `…/…+json`, with or without parameters. */
function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^[a-z]+\/[^\s/]+\+json$/.test(type);
}
