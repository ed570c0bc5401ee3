/**
 * A cap on the upstreams open at once to one origin, shared by every connection of a realm (the
 * worker, or the page). The browser keeps about 6 connections per host over HTTP/1.1 and a
 * stream holds one for ever: without a cap, a page with many streams takes them all, and its
 * own requests (and new tabs of the origin) hang.
 */
export interface ConnectionSlots {
  /**
   * Asks for a slot to `origin`, granted while fewer than `limit` are open (each stream brings its
   * own limit; a waiter that a smaller limit blocks does not block one behind it with a larger
   * one). `grant` receives the function that gives the slot back. Returns a function that
   * withdraws the request; once granted, it does nothing.
   */
  request(origin: string, limit: number, grant: (release: () => void) => void): () => void;
  /** Upstreams open to `origin`, and streams waiting for one: for diagnostics and tests. */
  usage(origin: string): { open: number; waiting: number };
}

interface Waiter {
  limit: number;
  grant(release: () => void): void;
}

interface Pool {
  open: number;
  queue: Waiter[];
}

/** The slots of one realm; see {@link ConnectionSlots}. */
export function createConnectionSlots(): ConnectionSlots {
  /** By origin, while a slot is open or asked for. */
  const pools = new Map<string, Pool>();

  function pump(origin: string, pool: Pool): void {
    for (let i = 0; i < pool.queue.length; ) {
      const waiter = pool.queue[i]!;
      if (pool.open >= waiter.limit) {
        i++;
        continue;
      }
      pool.queue.splice(i, 1);
      pool.open++;
      let released = false;
      waiter.grant(() => {
        if (released) return;
        released = true;
        pool.open--;
        pump(origin, pool);
        forgetIfIdle(origin, pool);
      });
    }
  }

  function forgetIfIdle(origin: string, pool: Pool): void {
    if (pool.open === 0 && pool.queue.length === 0 && pools.get(origin) === pool) pools.delete(origin);
  }

  return {
    request(origin, limit, grant) {
      let pool = pools.get(origin);
      if (!pool) pools.set(origin, (pool = { open: 0, queue: [] }));
      const waiter: Waiter = { limit, grant };
      pool.queue.push(waiter);
      pump(origin, pool);
      return () => {
        const i = pool.queue.indexOf(waiter);
        if (i < 0) return;
        pool.queue.splice(i, 1);
        forgetIfIdle(origin, pool);
      };
    },
    usage(origin) {
      const pool = pools.get(origin);
      return { open: pool?.open ?? 0, waiting: pool?.queue.length ?? 0 };
    },
  };
}
