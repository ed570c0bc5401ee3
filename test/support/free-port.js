// @ts-check
import net from 'node:net';

/**
 * A port of 127.0.0.1 that was free a moment ago: for a child process that takes its port on the
 * command line. Another process may take it before the child binds, so callers try again.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}
