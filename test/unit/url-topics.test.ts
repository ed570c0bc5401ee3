import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/client/resolve-options.js';

// Topics named in the URL are the client's topics when the topics option names none.

describe('resolveOptions: topics named in the URL', () => {
  it('a URL topic without the option becomes the topics option; the URL is kept as given', () => {
    const o = resolveOptions({ url: 'http://127.0.0.1:9/events?topic=orders&topic=jobs%2F7', inert: false });
    expect(o.topics).toEqual(['orders', 'jobs/7']);
    expect(o.stream.url).toBe('http://127.0.0.1:9/events?topic=orders&topic=jobs%2F7');
  });

  it('with the topics option, the option names the topics', () => {
    expect(resolveOptions({ url: 'http://127.0.0.1:9/events?topic=a', topics: ['b'], inert: false }).topics).toEqual(['b']);
  });

  it('without topics anywhere the stream stays plain', () => {
    expect(resolveOptions({ url: 'http://127.0.0.1:9/events?stream=x', inert: false }).topics).toBeUndefined();
  });

  it('an inert client with a relative URL (server-side rendering) is not parsed', () => {
    expect(() => resolveOptions({ url: '/events?topic=a', inert: true })).not.toThrow();
  });

  it('a URL topic that is no topic name is an invalid-options error', () => {
    expect(() => resolveOptions({ url: `http://127.0.0.1:9/events?topic=${'x'.repeat(300)}`, inert: false })).toThrow(/topic name/);
  });
});
