import { RealtimeError } from '../protocol/errors.js';
import type { HeadersInit } from '../protocol/types.js';

/**
 * Headers from what an option or a provider gave: a plain object of strings, a `Headers`
 * instance or `[name, value]` pairs. Anything else throws a `headers` error that says what came.
 */
export function toHeaders(value: unknown): HeadersInit {
  const out: HeadersInit = {};
  if (Array.isArray(value)) {
    for (const pair of value) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw invalid(`an array holding ${describe(pair)}`);
      }
      out[pair[0]] = pair[1];
    }
    return out;
  }
  if (typeof Headers === 'function' && value instanceof Headers) {
    value.forEach((v, name) => (out[name] = v));
    return out;
  }
  if (typeof value !== 'object' || value === null || !isPlain(value)) {
    throw invalid(describe(value));
  }
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalid(`an object whose "${name}" is ${describe(v)}`);
    out[name] = v;
  }
  return out;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function invalid(what: string): RealtimeError {
  return new RealtimeError('headers', `Headers must be an object of strings, a Headers instance or [name, value] pairs; got ${what}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  return typeof value === 'string' ? 'a string' : String(typeof value);
}
