// One case per subtest of the web-platform-tests' eventsource/ directory (window subtests), named
// as the suite names it and checking what it checks, written for this project (README.md beside
// this file). `file` is the subtest's file in that suite. Each case gets `t` (harness.mjs) and
// `env`: `ES`, the class under test; `frame()`, a same-origin frame (under resources/) with the
// class loaded in its realm; `cross`, this directory on a cross-origin server; `crossOrigin`;
// `token()`, a unique string.
import {
  assert_array_equals,
  assert_equals,
  assert_false,
  assert_own_property,
  assert_regexp_match,
  assert_throws_dom,
  assert_true,
  assert_unreached,
} from './harness.mjs';

export const cases = [];

/**
 * Adds a case. `options.sync`: it passes when `run` returns without throwing; `options.last`: it
 * stops the page's loading, so it runs after the others.
 */
function add(file, name, run, options = {}) {
  cases.push({ file, name, run, ...options });
}

/** `e` is a plain event: not a MessageEvent (no own or inherited `data`), not bubbling, not cancelable. */
function assertSimpleEvent(e) {
  assert_false(Object.prototype.hasOwnProperty.call(e, 'data'), 'no own data');
  assert_false(e.bubbles, 'bubbles');
  assert_false(e.cancelable, 'cancelable');
}

const message = (text, more = '') => `resources/message?message=${encodeURIComponent(text)}${more}`;

// ---- event-data ----------------------------------------------------------------------------
add('event-data.any.js', 'EventSource: lines and data parsing', (t, { ES }) => {
  const source = new ES('resources/message2');
  t.cleanup(() => source.close());
  let counter = 0;
  source.onmessage = t.step((e) => {
    if (counter === 0) assert_equals(e.data, 'msg\nmsg');
    else if (counter === 1) assert_equals(e.data, '');
    else if (counter === 2) {
      assert_equals(e.data, 'end');
      source.close();
      t.done();
    } else assert_unreached();
    counter++;
  });
});

// ---- eventsource-close -----------------------------------------------------------------------
add('eventsource-close.window.js', 'EventSource: close()', (t, { ES }) => {
  const source = new ES('resources/message');
  t.cleanup(() => source.close());
  assert_equals(source.readyState, source.CONNECTING, 'connecting readyState');
  source.onopen = t.step(() => {
    assert_equals(source.readyState, source.OPEN, 'open readyState');
    source.close();
    assert_equals(source.readyState, source.CLOSED, 'closed readyState');
    t.done();
  });
});

add('eventsource-close.window.js', 'EventSource: close(), test events', (t, { ES, token }) => {
  let count = 0;
  let reconnected = false;
  const source = new ES(`resources/reconnect-fail?id=${token()}`);
  t.cleanup(() => source.close());
  source.onerror = t.step((e) => {
    assert_equals(e.type, 'error');
    if (count === 1) {
      assert_equals(source.readyState, source.CONNECTING, 'reconnecting readyState');
      reconnected = true;
    } else if (count === 2) {
      assert_equals(source.readyState, source.CONNECTING, 'last reconnecting readyState');
      count++;
    } else if (count === 3) {
      assert_equals(source.readyState, source.CLOSED, 'closed readyState');
      t.timeout(() => t.done(), 100);
    } else assert_unreached(`error handler with message count ${count}`);
  });
  source.onmessage = t.step((e) => {
    if (count === 0) {
      assert_true(!reconnected, 'no error event run');
      assert_equals(e.data, 'opened', 'data');
    } else if (count === 1) {
      assert_true(reconnected, 'have reconnected');
      assert_equals(e.data, 'reconnected', 'data');
    } else assert_unreached(`message number ${count}`);
    count++;
  });
}, { timeout: 20_000 });

// ---- constructor -----------------------------------------------------------------------------
add('eventsource-constructor-document-domain.window.js', 'EventSource: document.domain', (t, { ES }) => {
  // eslint-disable-next-line no-self-assign
  document.domain = document.domain;
  const source = new ES('resources/message');
  t.cleanup(() => source.close());
  source.onopen = t.step((e) => {
    assert_equals(source.readyState, source.OPEN);
    assertSimpleEvent(e);
    source.close();
    t.done();
  });
});

add('eventsource-constructor-empty-url.any.js', 'Passing empty string to the EventSource constructor', (t, { ES }) => {
  const source = new ES('');
  source.close();
  assert_equals(source.url, document.documentURI, "an empty URL is the document's");
}, { sync: true });

for (const url of ['ftp://example.not/', 'about:blank', 'mailto:whatwg@awesome.example', "javascript:alert('FAIL')"]) {
  add('eventsource-constructor-non-same-origin.window.js', `EventSource: constructor (act as if there is a network error) (${url})`, (t, { ES }) => {
    const source = new ES(url);
    t.cleanup(() => source.close());
    source.onerror = t.step((e) => {
      assert_equals(source.readyState, source.CLOSED);
      assert_false(Object.prototype.hasOwnProperty.call(e, 'data'));
      t.done();
    });
  });
}

add('eventsource-constructor-stringify.window.js', 'EventSource: stringify argument, object', (t, { ES }) => {
  const source = new ES({ toString: () => 'resources/message' });
  t.cleanup(() => source.close());
  source.onopen = t.step((e) => {
    assert_false(Object.prototype.hasOwnProperty.call(e, 'data'));
    source.close();
    t.done();
  });
});
for (const [label, value, tail] of [['1', 1, /\/1$/], ['null', null, /\/null$/], ['undefined', undefined, /\/undefined$/]]) {
  add('eventsource-constructor-stringify.window.js', `EventSource: stringify argument, ${label}`, (t, { ES }) => {
    const source = new ES(value);
    source.close();
    assert_regexp_match(source.url, tail);
  }, { sync: true });
}

add('eventsource-constructor-url-bogus.any.js', 'EventSource: constructor (invalid URL)', (t, { ES }) => {
  assert_throws_dom('SyntaxError', () => new ES('http://this is invalid/'));
}, { sync: true });

add('eventsource-constructor-url-multi-window.htm', 'EventSource: resolving URLs', async (t, { frame }) => {
  // The constructor of a frame's realm resolves against that frame's document (under resources/).
  const { ES } = await frame();
  const source = new ES('message');
  t.cleanup(() => source.close());
  source.onopen = t.step((e) => {
    assert_equals(source.readyState, source.OPEN);
    assertSimpleEvent(e);
    source.close();
    t.done();
  });
  source.onerror = t.unreached('error');
});

// ---- cross-origin ----------------------------------------------------------------------------
for (const [title, path] of [
  ['basic use', 'resources/cors?run=message'],
  ['redirect use', `resources/cors?run=redirect&location=${encodeURIComponent('/eventsource/resources/cors?run=message')}`],
  ['redirect use recon', 'resources/cors?run=status-reconnect&status=200'],
]) {
  add('eventsource-cross-origin.window.js', `EventSource: cross-origin ${title}`, (t, { ES, cross, crossOrigin, token }) => {
    const source = new ES(`${cross}${path}&id=${token()}`, { withCredentials: true });
    t.cleanup(() => source.close());
    source.onmessage = t.step_done((e) => {
      assert_equals(e.data, 'data');
      assert_equals(e.origin, crossOrigin);
      source.close();
    });
  });
}
for (const [title, path] of [
  ['allow-origin: http://example.org should fail', 'resources/cors?run=message&origin=http://example.org'],
  ["allow-origin:'' should fail", 'resources/cors?run=message&origin='],
  ['No allow-origin should fail', 'resources/message'],
]) {
  add('eventsource-cross-origin.window.js', `EventSource: cross-origin ${title}`, (t, { ES, cross }) => {
    const source = new ES(`${cross}${path}`);
    t.cleanup(() => source.close());
    source.onerror = t.step((e) => {
      assert_equals(source.readyState, source.CLOSED, 'readyState');
      assert_false(Object.prototype.hasOwnProperty.call(e, 'data'));
      source.close();
      t.done();
    });
    source.onmessage = t.unreached("shouldn't fire message event");
    source.onopen = t.unreached("shouldn't fire open event");
  });
}

for (const [title, fixture] of [
  ['safe `last-event-id` (no preflight)', 'safe'],
  ['unsafe `last-event-id` (too long)', 'long'],
  ['unsafe `last-event-id` (unsafe characters)', 'unsafe'],
]) {
  add('eventsource-cross-origin-preflight.window.js', `EventSource: cross-origin preflight - ${title}`, (t, { ES, cross, token }) => {
    const source = new ES(`${cross}resources/cors-unsafe-last-event-id?fixture=${fixture}&token=${token()}`);
    t.cleanup(() => source.close());
    source.addEventListener('message', t.step((e) => assert_equals(e.data, fixture)));
    source.addEventListener('success', t.step_done());
    source.addEventListener('failure', t.step((e) => assert_unreached(e.data)));
  });
}

add('eventsource-cross-origin-redirect-origin.any.js', 'MessageEvent.origin is the origin of the final URL after a cross-origin redirect', (t, { ES, cross, crossOrigin }) => {
  const target = `${cross}resources/cors?run=message`;
  const source = new ES(`/common/redirect?location=${encodeURIComponent(target)}`);
  t.cleanup(() => source.close());
  source.onerror = t.unreached('error event');
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, 'data', 'data');
    assert_equals(e.origin, crossOrigin, 'origin');
  });
});

// ---- events ----------------------------------------------------------------------------------
add('eventsource-eventtarget.any.js', 'EventSource: addEventListener()', (t, { ES }) => {
  const source = new ES('resources/message');
  t.cleanup(() => source.close());
  source.addEventListener('message', t.step_done(function (e) {
    assert_equals(e.data, 'data');
    this.close();
  }), false);
});

add('eventsource-onmessage-realm.htm', 'the MessageEvent must be created in the Realm of the EventSource', async (t, { frame }) => {
  const { ES, window: w } = await frame();
  const source = new ES('message');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => assert_equals(e.constructor, w.MessageEvent));
});

add('eventsource-onmessage-trusted.any.js', 'EventSource message events are trusted', (t, { ES }) => {
  const source = new ES('resources/message');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    source.close();
    assert_equals(e.isTrusted, true);
  });
});

add('eventsource-onmessage.any.js', 'EventSource: onmessage', (t, { ES }) => {
  const source = new ES('resources/message');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, 'data');
    source.close();
  });
});

add('eventsource-onopen.any.js', 'EventSource: onopen (announcing the connection)', (t, { ES }) => {
  const source = new ES('resources/message');
  t.cleanup(() => source.close());
  source.onopen = t.step_done(function (e) {
    assert_equals(source.readyState, source.OPEN);
    assertSimpleEvent(e);
    this.close();
  });
});

add('eventsource-prototype.any.js', 'EventSource: prototype et al', (t, { ES, global }) => {
  ES.prototype.ReturnTrue = () => true;
  const source = new ES('resources/message');
  try {
    assert_true(source.ReturnTrue());
    assert_own_property(global.scope, global.name);
  } finally {
    source.close();
    delete ES.prototype.ReturnTrue;
  }
}, { sync: true });

// ---- reconnection ----------------------------------------------------------------------------
add('eventsource-reconnect.window.js', 'EventSource: reconnection 200', (t, { ES, token }) => {
  const source = new ES(`resources/status-reconnect?status=200&id=${token()}`);
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, 'data');
    source.close();
  });
});

add('eventsource-reconnect.window.js', 'EventSource: reconnection, test reconnection events', (t, { ES, token }) => {
  let opened = false;
  let reconnected = false;
  const source = new ES(`resources/status-reconnect?status=200&ok_first&id=${token()}`);
  t.cleanup(() => source.close());
  source.onerror = t.step((e) => {
    assert_equals(e.type, 'error');
    assert_equals(source.readyState, source.CONNECTING, 'readyState');
    assert_true(opened, 'connection is opened earlier');
    reconnected = true;
  });
  source.onmessage = t.step((e) => {
    if (!opened) {
      opened = true;
      assert_false(reconnected, 'have reconnected before first message');
      assert_equals(e.data, 'ok');
    } else {
      assert_true(reconnected, 'got reconnection event');
      assert_equals(e.data, 'data');
      source.close();
      t.done();
    }
  });
});

add('eventsource-request-cancellation.window.js', 'EventSource: request cancellation', (t, { ES }) => {
  // window.stop() aborts the document's fetches: the connection fails, for good.
  const es = new ES(message('retry:1000\ndata:abc\n\n', '&sleep=1000'));
  t.cleanup(() => es.close());
  es.onerror = t.step(() => {
    assert_equals(es.readyState, es.CLOSED);
    t.timeout(() => {
      assert_equals(es.readyState, es.CLOSED, 'after stopping the eventsource readyState should be CLOSED');
      t.done();
    }, 1000);
  });
  t.timeout(() => {
    window.stop();
    es.onopen = t.unreached('got open event');
    es.onmessage = t.unreached('got message after closing source');
  }, 0);
}, { last: true });

add('eventsource-url.any.js', 'EventSource: url', (t, { ES }) => {
  const url = 'resources/message';
  const source = new ES(url);
  source.close();
  assert_equals(source.url.slice(-url.length), url);
}, { sync: true });

// ---- format ----------------------------------------------------------------------------------
add('format-bom.any.js', 'EventSource: BOM', (t, { ES }) => {
  let one = false;
  let two = false;
  const source = new ES('resources/message?message=%EF%BB%BFdata%3A1%0A%0A%EF%BB%BFdata%3A2%0A%0Adata%3A3');
  t.cleanup(() => source.close());
  source.addEventListener('message', t.step(function (e) {
    if (e.data === '1') one = true;
    if (e.data === '2') two = true;
    if (e.data === '3') {
      assert_true(one);
      assert_false(two);
      this.close();
      t.done();
    }
  }), false);
});

add('format-bom-2.any.js', 'EventSource: Double BOM', (t, { ES }) => {
  let one = false;
  let two = false;
  const source = new ES('resources/message?message=%EF%BB%BF%EF%BB%BFdata%3A1%0A%0Adata%3A2%0A%0Adata%3A3');
  t.cleanup(() => source.close());
  source.addEventListener('message', t.step(function (e) {
    if (e.data === '1') one = true;
    if (e.data === '2') two = true;
    if (e.data === '3') {
      assert_false(one);
      assert_true(two);
      this.close();
      t.done();
    }
  }), false);
});

add('format-comments.any.js', 'EventSource: comment fest', (t, { ES }) => {
  const long = 'x'.repeat(2 * 1024);
  const text = encodeURI(`data:1\r:\0\n:\r\ndata:2\n:${long}\rdata:3\n:data:fail\r:${long}\ndata:4\n`);
  const source = new ES(`resources/message?message=${text}&newline=none`);
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, '1\n2\n3\n4');
    source.close();
  });
});

add('format-data-before-final-empty-line.any.js', 'EventSource: a data before final empty line', (t, { ES }) => {
  const source = new ES(message('retry:1000\ndata:test1\n\nid:test\ndata:test2', '&newline=none'));
  t.cleanup(() => source.close());
  let count = 0;
  source.onmessage = t.step((e) => {
    if (++count === 2) {
      assert_equals(e.lastEventId, '', 'lastEventId');
      assert_equals(e.data, 'test1', 'data');
      source.close();
      t.done();
    }
  });
}, { timeout: 20_000 });

add('format-field-data.any.js', 'EventSource: data field parsing', (t, { ES }) => {
  const source = new ES('resources/message?message=data%3A%0A%0Adata%0Adata%0A%0Adata%3Atest');
  t.cleanup(() => source.close());
  let counter = 0;
  source.onmessage = t.step((e) => {
    if (counter === 0) assert_equals(e.data, '');
    else if (counter === 1) assert_equals(e.data, '\n');
    else if (counter === 2) {
      assert_equals(e.data, 'test');
      source.close();
      t.done();
    } else assert_unreached();
    counter++;
  });
});

add('format-field-event-empty.any.js', 'EventSource: empty "event" field', (t, { ES }) => {
  const source = new ES('resources/message?message=event%3A%20%0Adata%3Adata');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done(function (e) {
    assert_equals(e.data, 'data');
    this.close();
  });
});

add('format-field-event.any.js', 'EventSource: custom event name', (t, { ES }) => {
  let dispatched = false;
  const source = new ES('resources/message?message=event%3Atest%0Adata%3Ax%0A%0Adata%3Ax');
  t.cleanup(() => source.close());
  source.addEventListener('test', t.step(() => (dispatched = true)), false);
  source.onmessage = t.step_done(function () {
    assert_true(dispatched);
    this.close();
  });
});

add('format-field-id.any.js', 'EventSource: Last-Event-ID', (t, { ES }) => {
  let seenHello = false;
  const source = new ES('resources/last-event-id');
  t.cleanup(() => source.close());
  source.onmessage = t.step((e) => {
    if (e.data === 'hello' && !seenHello) {
      seenHello = true;
      assert_equals(e.lastEventId, '…');
    } else if (seenHello) {
      // The server echoes the Last-Event-ID bytes it got: the id's UTF-8.
      assert_equals(e.data, '…');
      assert_equals(e.lastEventId, '…');
      source.close();
      t.done();
    } else assert_unreached();
  });
});

add('format-field-id-2.any.js', 'EventSource: Last-Event-ID (2)', (t, { ES }) => {
  let counter = 0;
  const source = new ES('resources/last-event-id');
  t.cleanup(() => source.close());
  source.onmessage = t.step((e) => {
    if (e.data === 'hello' && counter === 0) {
      counter++;
      assert_equals(e.lastEventId, '…');
    } else if (counter === 1) {
      counter++;
      assert_equals(e.data, '…');
      assert_equals(e.lastEventId, '…');
    } else if (counter === 2) {
      counter++;
      assert_equals(e.data, '…');
      assert_equals(e.lastEventId, '…');
      source.close();
      t.done();
    } else assert_unreached();
  });
}, { timeout: 20_000 });

for (const [type, title, expected] of [
  [1, 'persists', ['1', '1']],
  [2, 'changes and persists', ['1', '2', '2']],
  [3, 'resets', ['1', '', '']],
]) {
  add('format-field-id-3.window.js', `EventSource: lastEventId ${title}`, (t, { ES }) => {
    const source = new ES(`resources/last-event-id2?type=${type}`);
    t.cleanup(() => source.close());
    let counter = 0;
    source.onmessage = t.step((e) => {
      if (counter >= expected.length) assert_unreached();
      assert_equals(e.lastEventId, expected[counter]);
      counter++;
      if (counter === expected.length) {
        source.close();
        t.done();
      }
    });
  });
}

add('format-field-id-null.window.js', 'EventSource: U+0000 in id field', (t, { ES }) => {
  // An id with U+0000 is ignored: nothing to resume from, so the reconnection says hello again.
  let seenHello = false;
  const source = new ES('resources/last-event-id?idvalue=%00%00');
  t.cleanup(() => source.close());
  source.onmessage = t.step((e) => {
    if (e.data === 'hello' && !seenHello) {
      seenHello = true;
      assert_equals(e.lastEventId, '');
    } else if (seenHello) {
      assert_equals(e.data, 'hello');
      assert_equals(e.lastEventId, '');
      source.close();
      t.done();
    } else assert_unreached();
  });
});

add('format-field-parsing.any.js', 'EventSource: field parsing', (t, { ES }) => {
  const text = encodeURI('data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n');
  const source = new ES(`resources/message?message=${text}&newline=none`);
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, '\0\n 2\n1\n3\n\n4');
    source.close();
  });
});

add('format-field-retry-bogus.any.js', 'EventSource: "retry" field (bogus)', (t, { ES }) => {
  const timeoutMs = 2000;
  const source = new ES('resources/message?message=retry%3A2000%0Aretry%3A1000x%0Adata%3Ax');
  t.cleanup(() => source.close());
  let opened = 0;
  source.onopen = t.step(function () {
    if (opened === 0) opened = Date.now();
    else {
      const diff = Date.now() - opened;
      assert_true(Math.abs(1 - diff / timeoutMs) < 0.1, `reconnected after ${diff} ms, expected 2000 ms ± 10%`);
      this.close();
      t.done();
    }
  });
});

add('format-field-retry-empty.any.js', 'EventSource: empty retry field', (t, { ES }) => {
  const source = new ES('resources/message?message=retry%0Adata%3Atest');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, 'test');
    source.close();
  });
});

add('format-field-retry.any.js', 'EventSource: "retry" field', (t, { ES }) => {
  const timeoutMs = 2000;
  // 02000: a leading zero is not octal.
  const source = new ES('resources/message?message=retry%3A02000%0Adata%3Ax');
  t.cleanup(() => source.close());
  let opened = 0;
  source.onopen = t.step(function () {
    if (opened === 0) opened = Date.now();
    else {
      const diff = Date.now() - opened;
      assert_true(Math.abs(1 - diff / timeoutMs) < 0.1, `reconnected after ${diff} ms, expected 2000 ms ± 10%`);
      this.close();
      t.done();
    }
  });
});

add('format-field-unknown.any.js', 'EventSource: unknown fields and parsing fun', (t, { ES }) => {
  const source = new ES('resources/message?message=data%3Atest%0A%20data%0Adata%0Afoobar%3Axxx%0Ajustsometext%0A%3Athisisacommentyay%0Adata%3Atest');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, 'test\n\ntest');
    source.close();
  });
});

add('format-leading-space.any.js', 'EventSource: leading space', (t, { ES }) => {
  const source = new ES('resources/message?message=data%3A%09test%0Ddata%3A%20%0Adata%3Atest');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, '\ttest\n\ntest');
    source.close();
  });
});

add('format-mime-bogus.any.js', 'EventSource: bogus MIME type', (t, { ES }) => {
  const source = new ES('resources/message?mime=x%20bogus');
  t.cleanup(() => source.close());
  source.onmessage = t.unreached('message');
  source.onerror = t.step_done(function (e) {
    assert_equals(this.readyState, this.CLOSED);
    assertSimpleEvent(e);
    this.close();
  });
});

add('format-mime-trailing-semicolon.any.js', 'EventSource: MIME type with trailing ;', (t, { ES }) => {
  const source = new ES('resources/message?mime=text/event-stream%3B');
  t.cleanup(() => source.close());
  source.onopen = t.step_done(() => {
    assert_equals(source.readyState, source.OPEN);
    source.close();
  });
  source.onerror = t.unreached('error');
});

add('format-mime-valid-bogus.any.js', 'EventSource: incorrect valid MIME type', (t, { ES }) => {
  const source = new ES('resources/message?mime=text/x-bogus');
  t.cleanup(() => source.close());
  source.onmessage = t.unreached('message');
  source.onerror = t.step_done((e) => {
    assert_equals(source.readyState, source.CLOSED);
    assertSimpleEvent(e);
  });
});

add('format-newlines.any.js', 'EventSource: newline fest', (t, { ES }) => {
  const source = new ES('resources/message?message=data%3Atest%0D%0Adata%0Adata%3Atest%0D%0A%0D&newline=none');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, 'test\n\ntest');
    source.close();
  });
});

add('format-null-character.any.js', 'EventSource: null character in response', (t, { ES }) => {
  const source = new ES('resources/message?message=data%3A%00%0A%0A');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, '\x00');
    source.close();
  });
  source.onerror = t.unreached('error');
});

add('format-utf-8.any.js', 'EventSource always UTF-8', (t, { ES }) => {
  const source = new ES('resources/message?mime=text/event-stream%3bcharset=windows-1252&message=data%3Aok%E2%80%A6');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done((e) => {
    assert_equals(e.data, 'ok…', 'decoded data');
    source.close();
  });
  source.onerror = t.unreached('got error event');
});

// ---- incremental stream and trusted messages ------------------------------------------------
add('eventsource-incremental.any.js', 'A live response delivers its first message without waiting for EOF', (t, { ES }) => {
  const source = new ES('/eventsource/resources/message2');
  t.cleanup(() => source.close());
  let opened = false;
  source.onopen = t.step((e) => {
    opened = true;
    assert_true(e.isTrusted, 'open isTrusted');
    assert_equals(source.readyState, ES.OPEN);
  });
  source.onerror = t.unreached('streaming connection must succeed');
  source.onmessage = t.step_done((e) => {
    source.close();
    assert_true(opened, 'open precedes message');
    assert_equals(e.constructor, MessageEvent);
    assert_true(e.isTrusted, 'message isTrusted');
    assert_equals(e.data, 'msg\nmsg');
    assert_equals(e.origin, location.origin);
    assert_equals(e.lastEventId, '');
    assert_equals(e.source, null);
    assert_array_equals(e.ports, []);
    assert_false(e.bubbles);
    assert_false(e.cancelable);
  });
});

add('eventsource-incremental.any.js', 'BOM, mixed line endings, event name and lastEventId reach script', (t, { ES }) => {
  const stream = '\uFEFFid: α\r\nevent: named\r\ndata: first\rdata: second\n\n';
  const source = new ES(`/eventsource/resources/message?message=${encodeURIComponent(stream)}`);
  t.cleanup(() => source.close());
  source.onmessage = t.unreached('named event must not become message');
  source.addEventListener('named', t.step_done((e) => {
    source.close();
    assert_equals(e.data, 'first\nsecond');
    assert_equals(e.lastEventId, 'α');
    assert_true(e.isTrusted, 'isTrusted');
  }));
});

add('eventsource-incremental.any.js', 'An invalid MIME type fails the connection with CLOSED and a trusted error', (t, { ES }) => {
  const source = new ES('/eventsource/resources/message?mime=text/plain');
  t.cleanup(() => source.close());
  source.onopen = t.unreached('wrong MIME type must not open');
  source.onmessage = t.unreached('wrong MIME type must not dispatch data');
  source.onerror = t.step_done((e) => {
    assert_equals(source.readyState, ES.CLOSED);
    assert_true(e.isTrusted, 'isTrusted');
  });
});

// ---- request ---------------------------------------------------------------------------------
add('request-accept.any.js', 'EventSource: Accept header', (t, { ES }) => {
  const source = new ES('resources/accept');
  t.cleanup(() => source.close());
  source.onmessage = t.step_done(function (e) {
    assert_equals(e.data, 'text/event-stream');
    this.close();
  });
});

for (const [where, path] of [['same-origin', 'resources/cache-control'], ['cross-origin', 'CROSS']]) {
  for (const again of ['', ', again']) {
    // The suite runs each twice, to check that the answer stays the same.
    add('request-cache-control.any.js', `EventSource: Cache-Control (${where}${again})`, (t, { ES, cross }) => {
      const source = new ES(path === 'CROSS' ? `${cross}resources/cors?run=cache-control` : path);
      t.cleanup(() => source.close());
      source.onmessage = t.step_done(function (e) {
        assert_equals(e.data, 'no-cache');
        this.close();
      });
    });
  }
}

for (const [desc, success, props] of [['enabled', true, { withCredentials: true }], ['disabled', false, { withCredentials: false }], ['default', false, {}]]) {
  add('request-credentials.any.window.js', `EventSource: credentials: credentials ${desc}`, (t, { ES, cross, token }) => {
    const source = new ES(`${cross}resources/cors-cookie?ident=${token()}`, props);
    t.cleanup(() => source.close());
    source.onmessage = t.step((e) => {
      if (e.data.indexOf('first') === 0) assert_equals(e.data, 'first NO_COOKIE', 'cookie status');
      else if (e.data.indexOf('second') === 0) {
        assert_equals(e.data, success ? 'second COOKIE' : 'second NO_COOKIE', 'cookie status');
        source.close();
        t.done();
      } else assert_unreached(`unrecognized data returned: ${e.data}`);
    });
  });
}

for (const status of ['301', '302', '303', '307']) {
  add('request-redirect.any.window.js', `EventSource: redirect (${status})`, (t, { ES }) => {
    const source = new ES(`/common/redirect?location=/eventsource/resources/message&status=${status}`);
    t.cleanup(() => source.close());
    source.onopen = t.step_done(function () {
      assert_equals(this.readyState, this.OPEN);
      this.close();
    });
    source.onerror = t.unreached('error');
  });
}

for (const status of ['204', '205', '210', '299', '404', '410', '503']) {
  add('request-status-error.window.js', `EventSource: incorrect HTTP status code (${status})`, (t, { ES }) => {
    const source = new ES(`resources/status-error?status=${status}`);
    t.cleanup(() => source.close());
    source.onmessage = t.unreached('message');
    source.onerror = t.step_done(function () {
      assert_equals(this.readyState, this.CLOSED);
    });
  });
}
