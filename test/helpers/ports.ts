import { createServer } from 'node:net';

/**
 * A loopback port free right now, for a process the test restarts and wants on the same port each time (a
 * broker whose clients reconnect, a PostgreSQL server). Prefer port 0 when the port is needed only once.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
