/**
 * @module log-destination: where log lines go: standard output, written so
 * that a reader that stops (a full pipe) or goes away (EPIPE) never stops
 * the server.
 *
 * pino's default destination writes synchronously and, on a full pipe,
 * retries in a loop with `Atomics.wait`: the main thread hangs until someone
 * reads. An asynchronous write from the thread pool is no better on a
 * blocking pipe: the thread hangs in write(2), and the process cannot exit,
 * since exiting joins the pool. So a pipe or socket is written the way libuv
 * writes any socket, non-blocking from the event loop, through a
 * `net.Socket` of its own on the descriptor (Node's own `process.stdout`
 * would switch it back to blocking). Files and terminals, which do not stay
 * blocked, go through pino's sonic-boom, asynchronously.
 *
 * Either way at most `maxBytes` wait in memory: lines beyond are dropped and
 * counted, and once the reader takes lines again one line says how many.
 */
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import sonicBoom from 'sonic-boom';

// A CommonJS module: the class is the module itself, and also its `SonicBoom` property.
const { SonicBoom } = sonicBoom as unknown as typeof import('sonic-boom');

export interface LogDestination {
  /** What pino calls with each line. */
  write(line: string): void;
  /** Lines dropped and not yet reported. */
  readonly dropped: number;
  /** Resolves once everything queued is written, or after `timeoutMs` if the reader does not take it. */
  flush(timeoutMs: number): Promise<void>;
}

/** The line that reports dropped lines, as pino would have written it. */
function droppedLine(count: number): string {
  return `${JSON.stringify({ level: 40, time: Date.now(), service: 'xstate-chat', dropped: count, msg: `${count} log lines were dropped: standard output was not being read` })}\n`;
}

export function createLogDestination(fd: number, maxBytes: number): LogDestination {
  let kind: 'stream' | 'file';
  try {
    const stat = fstatSync(fd);
    kind = stat.isFIFO() || stat.isSocket() ? 'stream' : 'file';
  } catch {
    kind = 'file';
  }
  return kind === 'stream' ? streamDestination(fd, maxBytes) : fileDestination(fd, maxBytes);
}

function streamDestination(fd: number, maxBytes: number): LogDestination {
  const socket = new Socket({ fd, readable: false, writable: true });
  let dropped = 0;
  // EPIPE: the reader exited. Nobody can read logs any more; count them and carry on.
  let gone = false;
  socket.on('error', () => {
    gone = true;
  });
  // The process must not stay alive for its log pipe.
  socket.unref();
  const reportDropped = () => {
    if (dropped === 0 || gone) return;
    const note = droppedLine(dropped);
    dropped = 0;
    socket.write(note);
  };
  // The queue emptied below the high-water mark: the reader reads again.
  socket.on('drain', reportDropped);
  return {
    get dropped() {
      return dropped;
    },
    write(line) {
      if (gone || socket.writableLength + line.length > maxBytes) {
        dropped += 1;
        return;
      }
      reportDropped();
      socket.write(line);
    },
    flush: (timeoutMs) => whenDrained(() => gone || socket.writableLength === 0, timeoutMs),
  };
}

function fileDestination(fd: number, maxBytes: number): LogDestination {
  const boom = new SonicBoom({ fd, sync: false, maxLength: maxBytes });
  let dropped = 0;
  /** Set by sonic-boom, synchronously, when the write just made did not fit. */
  let refused = false;
  boom.on('drop', () => {
    refused = true;
  });
  // A terminal that went away (EIO), a file on a full disk: logs are lost, the server is not.
  let gone = false;
  boom.on('error', () => {
    gone = true;
  });
  // Bytes accepted and bytes written, to know when all is out.
  let accepted = 0;
  let written = 0;
  boom.on('write', (bytes: number) => {
    written += bytes;
  });
  const put = (line: string): boolean => {
    refused = false;
    boom.write(line);
    if (!refused) accepted += Buffer.byteLength(line);
    return !refused;
  };
  return {
    get dropped() {
      return dropped;
    },
    write(line) {
      if (gone) {
        dropped += 1;
        return;
      }
      // The note is dropped too while there is no room; then the count waits for the next line.
      if (dropped > 0 && put(droppedLine(dropped))) dropped = 0;
      if (!put(line)) dropped += 1;
    },
    flush: (timeoutMs) => whenDrained(() => gone || written >= accepted, timeoutMs),
  };
}

async function whenDrained(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
