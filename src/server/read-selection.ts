import type { IncomingMessage } from 'node:http';
import { LAST_EVENT_ID_PARAM, LONG_POLL, PRESENCE_PARAM, TOPIC_PARAM, TRANSPORT_PARAM } from '../protocol/wire.js';
import { isTopicName } from './names.js';
import { readJsonBody, type BodyError } from './read-json-body.js';

/** What one `/events` request asks for (server protocol §2, §4, §6). */
export interface Selection {
  /** The topics it named, without repeats; null for a plain connection (it named none). */
  topics: string[] | null;
  /** The resume cursor as sent (`Last-Event-ID`, else `lastEventId`), or null. */
  cursor: string | null;
  longPoll: boolean;
  /** It asks for the `ssemux:presence` events of its topics (`presence=1`). */
  presence: boolean;
}

/**
 * Reads the selection of a request: topics from the query and, for a POST with a JSON body,
 * from `{"topics": [...]}`; the resume cursor; the transport. A malformed request gives the
 * status and reason to answer with.
 */
export async function readSelection(
  req: IncomingMessage,
  limits: { maxTopics: number; maxBodyBytes: number },
): Promise<Selection | BodyError> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fromQuery = strictValues(url.search, TOPIC_PARAM);
  if (!fromQuery) return bad('a topic name that is not UTF-8 (ill-formed Unicode)');
  const named = new Set(fromQuery);
  if (req.method === 'POST') {
    const body = await readJsonBody(req, limits.maxBodyBytes);
    if (body && 'status' in body) return body;
    const value = body?.value;
    if (body && (typeof value !== 'object' || value === null || Array.isArray(value))) return bad('the body must be a JSON object');
    const topics = (value as { topics?: unknown } | undefined)?.topics;
    if (topics !== undefined) {
      if (!Array.isArray(topics)) return bad('"topics" must be an array of topic names');
      // One by one (a spread of 150,000 arguments overflows the stack), stopping past the limit.
      for (const topic of topics as unknown[]) {
        if (named.add(topic as string).size > limits.maxTopics) break;
      }
    }
  }
  const topics = [...named];
  if (topics.length > limits.maxTopics) return bad(`more than ${limits.maxTopics} topics`);
  const invalid = topics.find((topic) => !isTopicName(topic));
  if (invalid !== undefined) return bad(`invalid topic name: ${JSON.stringify(invalid)?.slice(0, 80)}`);

  // A header's value is bytes, which Node reads as Latin-1: the id's UTF-8, as clients send it.
  const header = req.headers['last-event-id'];
  const headerId = Array.isArray(header) ? header[0] : header;
  const cursor = (headerId && Buffer.from(headerId, 'latin1').toString('utf8')) || url.searchParams.get(LAST_EVENT_ID_PARAM) || null;
  return {
    topics: topics.length > 0 ? topics : null,
    cursor,
    longPoll: url.searchParams.get(TRANSPORT_PARAM) === LONG_POLL,
    presence: url.searchParams.get(PRESENCE_PARAM) === '1',
  };
}

function bad(error: string): BodyError {
  return { status: 400, error };
}

/**
 * The values of parameter `name` in a query string, decoded strictly: undefined when one is not
 * UTF-8. URLSearchParams turns such bytes into U+FFFD, and two different topics into one.
 */
function strictValues(search: string, name: string): string[] | undefined {
  const values: string[] = [];
  const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));
  for (const pair of search.slice(1).split('&')) {
    const at = pair.indexOf('=');
    let key: string;
    try {
      key = decode(at < 0 ? pair : pair.slice(0, at));
    } catch {
      continue; // not this parameter's name
    }
    if (key !== name) continue;
    try {
      values.push(decode(at < 0 ? '' : pair.slice(at + 1)));
    } catch {
      return undefined;
    }
  }
  return values;
}
