/**
 * @module process: prom-client's Node.js process metrics (CPU, memory, heap,
 * garbage collection, handles, and event-loop lag), one set per process.
 *
 * They describe the process, not a server, and collecting them starts an
 * event-loop delay monitor and a garbage collection observer that are never
 * stopped: so they are started once, when the first server's metrics are,
 * and every server in the process (tests start many) shares them.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

export function processMetrics(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
