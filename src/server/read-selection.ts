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
  const named = url.searchParams.getAll(TOPIC_PARAM);
  if (req.method === 'POST') {
    const body = await readJsonBody(req, limits.maxBodyBytes);
    if (body && 'status' in body) return body;
    const value = body?.value;
    if (body && (typeof value !== 'object' || value === null || Array.isArray(value))) return bad('the body must be a JSON object');
    const topics = (value as { topics?: unknown } | undefined)?.topics;
    if (topics !== undefined) {
      if (!Array.isArray(topics)) return bad('"topics" must be an array of topic names');
      named.push(...(topics as string[]));
    }
  }
  const invalid = named.find((topic) => !isTopicName(topic));
  if (invalid !== undefined) return bad(`invalid topic name: ${JSON.stringify(invalid)?.slice(0, 80)}`);
  const topics = [...new Set(named)];
  if (topics.length > limits.maxTopics) return bad(`more than ${limits.maxTopics} topics`);

  const header = req.headers['last-event-id'];
  const cursor = (Array.isArray(header) ? header[0] : header) || url.searchParams.get(LAST_EVENT_ID_PARAM) || null;
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
