/**
 * @module ports: a free loopback port, for tests that must know a port
 * before something listens on it (a server restarted on the same port, a
 * redis-server, a relay).
 */
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A port the kernel had free a moment ago. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}
