// A small harness for the suite's cases (test/wpt/README.md): each case gets `t`, with which it
// wraps its callbacks (`t.step`), ends (`t.done`), schedules (`t.timeout`) and cleans up
// (`t.cleanup`), and the assertions below. A case passes when it calls `t.done()` (or, for a
// synchronous case, returns) without an assertion failing first, within its time limit.

export class AssertionError extends Error {}

const show = (value) => {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
};

export function assert_equals(actual, expected, message = '') {
  if (!Object.is(actual, expected)) throw new AssertionError(`${message ? `${message}: ` : ''}expected ${show(expected)} but got ${show(actual)}`);
}
export function assert_true(value, message = '') {
  if (value !== true) throw new AssertionError(`${message ? `${message}: ` : ''}expected true, got ${show(value)}`);
}
export function assert_false(value, message = '') {
  if (value !== false) throw new AssertionError(`${message ? `${message}: ` : ''}expected false, got ${show(value)}`);
}
export function assert_regexp_match(value, regexp, message = '') {
  if (!regexp.test(value)) throw new AssertionError(`${message ? `${message}: ` : ''}${show(value)} does not match ${regexp}`);
}
export function assert_own_property(object, name, message = '') {
  if (!Object.prototype.hasOwnProperty.call(object, name)) throw new AssertionError(`${message ? `${message}: ` : ''}no own property ${name}`);
}
export function assert_unreached(message = 'reached unreachable code') {
  throw new AssertionError(message);
}
/** `fn` throws a DOMException named `name`. */
export function assert_throws_dom(name, fn) {
  try {
    fn();
  } catch (error) {
    if (error instanceof DOMException && error.name === name) return;
    throw new AssertionError(`expected a ${name} DOMException, got ${show(error)}`);
  }
  throw new AssertionError(`expected a ${name} DOMException, nothing was thrown`);
}
export function assert_array_equals(actual, expected, message = '') {
  if (actual?.length !== expected.length || expected.some((v, i) => !Object.is(v, actual[i]))) {
    throw new AssertionError(`${message ? `${message}: ` : ''}expected [${expected.map(show)}], got ${show(actual)}`);
  }
}

/**
 * Runs one case: `{ name, run(t, env), timeout }`. Resolves with `{ name, status, message }`,
 * where status is `pass`, `fail` or `timeout`; never rejects.
 */
export async function runCase(entry, env) {
  const cleanups = [];
  let settle;
  const finished = new Promise((resolve) => (settle = resolve));
  let over = false;
  const end = (status, message = '') => {
    if (over) return;
    over = true;
    settle({ status, message });
  };
  const t = {
    /** Wraps a callback: an assertion it fails fails the case. */
    step(fn) {
      return function (...args) {
        if (over) return undefined;
        try {
          return fn.apply(this, args);
        } catch (error) {
          end('fail', error instanceof Error ? error.message : String(error));
          return undefined;
        }
      };
    },
    /** A callback that ends the case when it returns. */
    step_done(fn = () => {}) {
      return t.step(function (...args) {
        fn.apply(this, args);
        t.done();
      });
    },
    unreached(message) {
      return t.step(() => assert_unreached(message));
    },
    done: () => end('pass'),
    timeout: (fn, ms) => setTimeout(t.step(fn), ms),
    cleanup: (fn) => cleanups.push(fn),
  };
  const limit = setTimeout(() => end('timeout', `no result within ${entry.timeout ?? env.timeout} ms`), entry.timeout ?? env.timeout);
  try {
    const sync = entry.run(t, env);
    if (entry.sync) end('pass');
    await sync;
  } catch (error) {
    end('fail', error instanceof Error ? error.message : String(error));
  }
  const result = await finished;
  clearTimeout(limit);
  for (const fn of cleanups) {
    try {
      fn();
    } catch {}
  }
  return { name: entry.name, file: entry.file, ...result };
}
