/**
 * @module channels: joining a channel and talking in it as a client does,
 * for the tests of offsets, history and recovery (in one process, and
 * across a cluster's restart).
 */
import type { Frame, TestClient } from './client.js';

/** Joins `channel` and returns every frame up to and including the client's own join frame. */
export async function joinChannel(client: TestClient, nick: string, channel: string, extra: Record<string, unknown> = {}): Promise<{ replay: Frame[]; own: Frame }> {
  client.send({ type: 4, channel, ...extra });
  const replay: Frame[] = [];
  for (;;) {
    const frame = await client.next();
    if (frame.type === 4 && frame.user === nick && frame.history === undefined) return { replay, own: frame };
    replay.push(frame);
  }
}

/** Sends `count` messages to `channel` and waits for the sender's own copies; returns them. */
export async function say(client: TestClient, channel: string, count: number, prefix = 'm'): Promise<Frame[]> {
  for (let i = 1; i <= count; i += 1) client.send({ type: 0, dest: channel, message: `${prefix}${i}` });
  const echoes: Frame[] = [];
  while (echoes.length < count) {
    const frame = await client.next();
    if (frame.type === 0) echoes.push(frame);
  }
  return echoes;
}
