/**
 * @module churn.test: thousands of short-lived sessions leave nothing behind:
 * no actors, sockets, outbox connections, connection slots or timers.
 */
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { TestClient } from '../support/client.js';
import { useServer } from '../support/server.js';

const start = useServer();

const CYCLES = 2_000;
const CONCURRENCY = 40;
const CHANNELS = 25;

/**
 * The ids of the actors below `actor`, at every depth, but supervisors: the
 * server keeps those, empty or not, for the connections to come.
 */
function actorsBelow(actor: AnyActorRef): string[] {
  const children = (actor.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children ?? {};
  return Object.entries(children).flatMap(([id, child]) => [...(id.startsWith('supervisor:') ? [] : [id]), ...(child ? actorsBelow(child) : [])]);
}

const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;

describe('churn', () => {
  it(`returns to its starting counts after ${CYCLES} connect, join, send and disconnect cycles`, async () => {
    const { server } = await start();
    // The outbox keeps its connections to itself; every attach it is sent must be matched by a detach.
    const attached = new Set<string>();
    server.actor.system.inspect((inspection) => {
      if (inspection.type !== '@xstate.event') return;
      const event = inspection.event as { type: string; id?: string };
      if (event.type === 'outbox.attach') attached.add(event.id!);
      if (event.type === 'outbox.detach') attached.delete(event.id!);
    });
    const counts = () => {
      const snapshot = server.actor.getSnapshot();
      return {
        actors: actorsBelow(server.actor).length,
        sessions: snapshot.context.sessions.size,
        nicks: snapshot.context.nicks.size,
        channels: snapshot.context.channels.size,
        sockets: server.transport.sockets.size,
        attached: attached.size,
        admitted: server.transport.admitted.total,
        systemIds: Object.keys(server.actor.system.getAll()).length,
      };
    };
    const before = counts();
    const timersBefore = timers();

    let next = 0;
    const cycle = async (i: number) => {
      const nick = `u${i}`;
      const channel = `#c${i % CHANNELS}`;
      const client = await TestClient.connect(server.url, nick);
      await client.until((frame) => frame.type === 6);
      client.send({ type: 4, channel });
      await client.until((frame) => frame.type === 4 && frame.user === nick);
      client.send({ type: 0, dest: channel, message: `hello from ${nick}` });
      await client.until((frame) => frame.type === 0 && frame.user === nick);
      // Every way out: logging out, closing, and vanishing.
      if (i % 3 === 0) client.send({ type: 3 });
      else if (i % 3 === 1) client.ws.close();
      else client.ws.terminate();
      await client.closed;
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CYCLES) await cycle(next++);
      }),
    );

    await expect.poll(counts, { timeout: 5_000 }).toEqual(before);
    await expect.poll(timers, { timeout: 5_000 }).toBeLessThanOrEqual(timersBefore);
  }, 120_000);
});
