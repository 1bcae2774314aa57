/**
 * @module fake-connection: a {@link Connection} that records what the machines send, for unit tests.
 */
import type { Connection } from '../../machines/socket.js';

export class FakeConnection implements Connection {
  readonly frames: unknown[] = [];
  closed: { code: number; reason: string } | undefined;

  send(data: string): void {
    this.frames.push(JSON.parse(data));
  }

  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }

  /** Frames received so far, forgetting them so the next call sees only new ones. */
  take(): unknown[] {
    return this.frames.splice(0);
  }
}
