/**
 * @module stderr: one line to standard error, for what the operator must see
 * (why the server would not start, why shutdown was cut short), written so
 * that a standard error nobody reads any more cannot crash or hang the
 * process: the line is lost instead.
 */
import { writeSync } from 'node:fs';

export function writeStderr(line: string): void {
  try {
    writeSync(2, `${line}\n`);
  } catch {
    // EPIPE (the reader exited) or EAGAIN (a full non-blocking pipe): nobody to tell.
  }
}
