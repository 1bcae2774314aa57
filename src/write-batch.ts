/**
 * @module write-batch: one write call per socket per event-loop turn, however
 * many frames the actors queue for it in that turn.
 *
 * A broadcast hands a frame to every member's socket, and a busy turn handles
 * many broadcasts: written one by one, each frame costs a `writev` system
 * call, which the CPU profile showed as the server's largest cost. Corking a
 * socket on its first frame of a turn and uncorking every corked socket in
 * `setImmediate` (after the poll phase has run all ready I/O callbacks)
 * turns that into one `writev` per socket per turn. `process.nextTick` would
 * be too early: it runs after each I/O callback, so it would batch only the
 * frames caused by one incoming read.
 */
import type { Writable } from 'node:stream';

let corked = new Set<Writable>();
let scheduled = false;

/** Corks `socket` until the end of this event-loop turn; safe to call for every frame. */
export function holdUntilTurnEnds(socket: Writable): void {
  if (corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

/** Writes out every corked socket now: for code that knows its turn's frames are all queued. */
export function flushWrites(): void {
  if (corked.size > 0) flush();
}

function flush(): void {
  scheduled = false;
  // Uncorking can run write callbacks that queue more frames: those start the next batch.
  const sockets = corked;
  corked = new Set();
  for (const socket of sockets) socket.uncork();
}
