/**
 * @module client: a real WebSocket test client that queues what it receives,
 * so tests can await frames in order and assert that nothing else arrived.
 */
import { WebSocket } from 'ws';

export type Frame = Record<string, unknown> & { type: number };

export interface Closed {
  code: number;
  reason: string;
}

const DEFAULT_WAIT_MS = 3_000;

export class TestClient {
  private readonly queue: Frame[] = [];
  /** Every frame received, consumed or not, with its payload size: for tests that count the server's traffic. */
  readonly received: { type: number; code?: string; bytes: number }[] = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<Closed>;
  private closedValue: Closed | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.received.push({ type: frame.type, bytes: data.length, ...(typeof frame.code === 'string' ? { code: frame.code } : {}) });
      this.queue.push(frame);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closedValue = { code, reason: reason.toString() };
        resolve(this.closedValue);
        this.waiter?.();
      });
    });
    ws.on('error', () => {});
  }

  /** Opens a socket at `path` (default: the login path for `nick`) and resolves once it is open. */
  static async connect(baseUrl: string, nick: string, path = `/chat/login/${encodeURIComponent(nick)}`): Promise<TestClient> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + path);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      ws.once('error', reject);
    });
    return client;
  }

  /**
   * Connects and consumes this client's own login frames (its login broadcast
   * and the user list). In the cluster run, another node's logins and logouts
   * that were on their way may come between: they are passed over, since
   * nothing orders them against a login on this node.
   */
  static async login(baseUrl: string, nick: string): Promise<TestClient> {
    const client = await TestClient.connect(baseUrl, nick);
    const othersPresence = (frame: Frame) => process.env.XSTATE_CHAT_CLUSTER === '1' && (frame.type === 2 || frame.type === 3) && frame.user !== nick;
    const next = async () => {
      let frame = await client.next();
      while (othersPresence(frame)) frame = await client.next();
      return frame;
    };
    checkFrame(await next(), { type: 2, user: nick });
    const list = await next();
    if (list.type !== 6) throw new Error(`unexpected frame ${JSON.stringify(list)}`);
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame, waiting up to `timeoutMs` for it. */
  async next(predicate?: (frame: Frame) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.queue.shift();
      if (frame) {
        if (predicate && !predicate(frame)) {
          throw new Error(`unexpected frame ${JSON.stringify(frame)}`);
        }
        return frame;
      }
      if (this.closedValue) throw new Error(`socket closed (${this.closedValue.code}) while waiting for a frame`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** The first frame that matches, passing over the others (for busy servers where other users come and go). */
  async until(predicate: (frame: Frame) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    for (;;) {
      const frame = await this.next(undefined, timeoutMs);
      if (predicate(frame)) return frame;
    }
  }

  /**
   * Awaits the next frame and checks it equals `expected` exactly, but for
   * the stamps every channel event carries (`offset`, `time`, and a joiner's
   * `epoch`): those must be there and well-formed, and are compared only when
   * `expected` names them.
   */
  async expect(expected: Frame): Promise<Frame> {
    return checkFrame(await this.next(), expected);
  }

  /** Awaits an error frame with `code` (and `id`, when given). */
  async expectError(code: string, id?: string | number): Promise<Frame> {
    const frame = await this.next();
    if (frame.type !== -1 || frame.code !== code || frame.id !== id || typeof frame.message !== 'string') {
      throw new Error(`expected error ${code}${id === undefined ? '' : ` (id ${id})`}, got ${JSON.stringify(frame)}`);
    }
    return frame;
  }

  /**
   * Proves nothing more arrives: a list request is a round trip through this
   * client's own session, so any frame queued before its answer shows up first.
   */
  async expectQuiet(): Promise<void> {
    const marker = `quiet-${Math.random().toString(36).slice(2)}`;
    this.send({ type: 6, id: marker });
    const frame = await this.next();
    if (frame.type !== 6 || frame.id !== marker) throw new Error(`expected no frames, got ${JSON.stringify(frame)}`);
  }

  /**
   * Every frame still on its way to this client, and nothing after: answered
   * by the same round trip as {@link expectQuiet}, whose answer ends the list.
   */
  async drain(): Promise<Frame[]> {
    const marker = `drain-${Math.random().toString(36).slice(2)}`;
    this.send({ type: 6, id: marker });
    const frames: Frame[] = [];
    for (let frame = await this.next(); frame.type !== 6 || frame.id !== marker; frame = await this.next()) frames.push(frame);
    return frames;
  }

  /** Frames received and not yet consumed. */
  get pending(): readonly Frame[] {
    return this.queue;
  }

  close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }

  terminate(): Promise<Closed> {
    this.ws.terminate();
    return this.closed;
  }
}

/** `frame`, if it equals `expected` as {@link TestClient.expect} compares them; throws otherwise. */
function checkFrame(frame: Frame, expected: Frame): Frame {
  const problem = stampProblem(frame);
  if (problem) throw new Error(`${problem} in ${JSON.stringify(frame)}`);
  const compared = Object.fromEntries(Object.entries(frame).filter(([key]) => !STAMPS.includes(key) || key in expected));
  if (JSON.stringify(sortKeys(compared)) !== JSON.stringify(sortKeys(expected))) {
    throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(frame)}`);
  }
  return frame;
}

/** What the server adds to channel events (see docs/protocol.md, "History"). */
const STAMPS = ['offset', 'time', 'epoch'];
const CHANNEL_EVENT_TYPES = new Set([0, 4, 5]);

/** What is wrong with a frame's stamps, if anything: a channel event must carry an offset and a time; nothing else may. */
function stampProblem(frame: Frame): string | undefined {
  const isChannelEvent = CHANNEL_EVENT_TYPES.has(frame.type) && typeof frame.channel === 'string' ? true : frame.type === 0;
  if (!isChannelEvent) return STAMPS.some((key) => key in frame) ? 'stamps on a frame that is not a channel event' : undefined;
  if (!Number.isSafeInteger(frame.offset) || (frame.offset as number) < 1) return 'no positive integer offset';
  if (!Number.isSafeInteger(frame.time) || Math.abs((frame.time as number) - Date.now()) > 24 * 60 * 60 * 1000) return 'no time in milliseconds';
  if ('epoch' in frame && (frame.type !== 4 || typeof frame.epoch !== 'string')) return 'an epoch on a frame other than a join';
  return undefined;
}

function sortKeys(frame: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(frame).sort(([a], [b]) => a.localeCompare(b)));
}
