/**
 * @module ordering.test: the ordering guarantees, under concurrent senders over real sockets.
 */
import { describe, expect, it } from 'vitest';
import type { Frame, TestClient } from '../support/client.js';
import { useServer } from '../support/server.js';

const start = useServer();

const SENDERS = 6;
const MESSAGES_EACH = 60;

/** Reads frames of `channel` until `done` says the sequence is complete. */
async function collect(client: TestClient, done: (frames: Frame[]) => boolean): Promise<Frame[]> {
  const frames: Frame[] = [];
  while (!done(frames)) frames.push(await client.next(undefined, 10_000));
  return frames;
}

const describeFrame = (frame: Frame) =>
  frame.type === 0 ? `${frame.user}:${frame.message}` : `${frame.type === 4 ? 'join' : 'leave'}:${frame.user}`;

describe('ordering', () => {
  it('gives every member one order, keeps each sender in order, and bounds a visitor by its join and leave', async () => {
    // Every sender floods on purpose: flood control would refuse most of it.
    const { login } = await start({ limits: { rateLimit: 0 } });
    const members: TestClient[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const client = await login(`m${i}`);
      client.send({ type: 4, channel: 'race' });
      await client.next((frame) => frame.type === 4 && frame.user === `m${i}`);
      members.push(client);
    }
    // Drain the logins and joins each member saw of those after it.
    for (const [i, client] of members.entries()) {
      for (let later = i + 1; later < SENDERS; later++) {
        await client.expect({ type: 2, user: `m${later}` });
        await client.expect({ type: 4, channel: '#race', user: `m${later}` });
      }
    }
    const visitor = await login('visitor');
    for (const client of members) await client.expect({ type: 2, user: 'visitor' });

    const total = SENDERS * MESSAGES_EACH;
    const sendAll = (async () => {
      for (let n = 0; n < MESSAGES_EACH; n++) {
        for (const [i, client] of members.entries()) client.send({ type: 0, dest: 'race', message: `${n}`, id: i });
        if (n === 5) visitor.send({ type: 4, channel: '#race' });
        if (n % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    // The visitor leaves after seeing a few messages, while traffic still flows.
    const visitorFrames = await collect(visitor, (frames) => frames.filter((frame) => frame.type === 0).length >= 40);
    visitor.send({ type: 5, channel: 'race' });
    const visitorTail = await collect(visitor, (frames) => frames.at(-1)?.type === 5);
    await sendAll;

    // Every member hears the visitor leave too, possibly after the last message (a cluster node can run behind):
    // collecting only up to the last message would then end a member's view before the leave.
    const seen = await Promise.all(
      members.map((client) =>
        collect(
          client,
          (frames) => frames.filter((frame) => frame.type === 0).length === total && frames.some((frame) => frame.type === 5 && frame.user === 'visitor'),
        ),
      ),
    );
    const reference = seen[0]!.map(describeFrame);
    for (const frames of seen) expect(frames.map(describeFrame)).toEqual(reference);

    for (let i = 0; i < SENDERS; i++) {
      const fromSender = seen[0]!.filter((frame) => frame.type === 0 && frame.user === `m${i}`).map((f) => f.message);
      expect(fromSender).toEqual(Array.from({ length: MESSAGES_EACH }, (_, n) => `${n}`));
    }

    const visited = [...visitorFrames, ...visitorTail].map(describeFrame);
    expect(visited[0]).toBe('join:visitor');
    expect(visited.at(-1)).toBe('leave:visitor');
    const from = reference.indexOf('join:visitor');
    expect(reference.slice(from, from + visited.length)).toEqual(visited);
    await visitor.expectQuiet();
  });
});
