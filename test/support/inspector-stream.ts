/**
 * @module inspector-stream: a WebSocket that reads what an inspector socket
 * (or the Stately relay) sends, with the hub's batches unpacked.
 */
import { WebSocket } from 'ws';

export interface Listener {
  /** Every message, batches unpacked, each serialised. */
  frames: string[];
  until(test: (all: string) => boolean): Promise<void>;
  ws: WebSocket;
}

/** The hub sends batches; tests look at the messages inside them. */
function unpack(message: { kind: string; messages?: unknown[] }): unknown[] {
  return message.kind === 'batch' ? (message.messages ?? []) : [message];
}

/** Collects every text frame a WebSocket at `url` receives. */
export async function listen(url: string): Promise<Listener> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on('message', (data) => {
    const text = data.toString();
    try {
      for (const message of unpack(JSON.parse(text) as { kind: string })) frames.push(JSON.stringify(message));
    } catch {
      frames.push(text);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = async (test: (all: string) => boolean) => {
    const deadline = Date.now() + 5_000;
    while (!test(frames.join('\n'))) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${frames.join('\n').slice(0, 2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { frames, until, ws };
}

