/**
 * @module session-claim.test: a clustered session claims its nick cluster-wide
 * before it says hello, and is turned away when the claim is lost or cannot
 * be made. A fake parent stands in for the server; a real outbox delivers.
 */
import { createActor, createMachine, fromPromise, sendTo, spawnChild, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { ClaimInput, ClaimOutcome } from '../../machines/claims.js';
import { OUTBOX_ID, outboxLogic } from '../../machines/outbox.js';
import type { Connection } from '../../machines/socket.js';
import { sessionWithAccounts } from '../../src/effects.js';
import { settle, testAccounts } from '../support/accounts.js';

function clusteredSession(claim: (input: ClaimInput) => Promise<ClaimOutcome>) {
  const frames: { type: number; code?: string }[] = [];
  const closes: { code: number; reason: string }[] = [];
  const hellos: unknown[] = [];
  const connection: Connection = {
    send: (data) => frames.push(JSON.parse(data)),
    close: (code, reason) => closes.push({ code, reason }),
  };
  const parent = createActor(
    createMachine({
      entry: [spawnChild(outboxLogic, { id: OUTBOX_ID, systemId: OUTBOX_ID }), sendTo(OUTBOX_ID, { type: 'outbox.attach', id: '7', connection })],
      invoke: {
        id: 'session',
        src: sessionWithAccounts(testAccounts()).provide({ actors: { claimNick: fromPromise<ClaimOutcome, ClaimInput>(({ input }) => claim(input)) } }),
        input: { id: '7', nick: 'alice', address: '127.0.0.1', maxChannels: 100, authTimeoutMs: 30_000, claimsNick: true },
      },
      on: { 'session.hello': { actions: [({ event }) => hellos.push(event), sendTo('session', { type: 'session.accepted' })] } },
    }),
  ).start();
  return { session: parent.getSnapshot().children.session as AnyActorRef, frames, closes, hellos };
}

describe('a clustered session', () => {
  it('claims its nick with its connection id before saying hello, then logs in', async () => {
    const claims: ClaimInput[] = [];
    const { session, hellos } = clusteredSession(async (input) => {
      claims.push(input);
      return { ok: true };
    });
    await settle();
    expect(claims).toEqual([{ id: '7', nick: 'alice', owner: false }]);
    expect(hellos).toHaveLength(1);
    expect(session.getSnapshot().value).toEqual({ active: 'guest' });
  });

  it('waits in handshaking.claiming, holding early frames, until the claim is answered', async () => {
    let answer: (outcome: ClaimOutcome) => void = () => {};
    const { session, hellos } = clusteredSession(() => new Promise((resolve) => (answer = resolve)));
    await settle();
    expect(session.getSnapshot().value).toEqual({ handshaking: 'claiming' });
    session.send({ type: 'client.list' });
    expect(session.getSnapshot().context.held).toHaveLength(1);
    expect(hellos).toEqual([]);
    answer({ ok: true });
    await settle();
    expect(session.getSnapshot().value).toEqual({ active: 'guest' });
  });

  it('is refused with nick_taken and closed with 1008 when another node holds the nick', async () => {
    const { session, frames, closes, hellos } = clusteredSession(async () => ({ ok: false, code: 'nick_taken' }));
    await settle();
    expect(session.getSnapshot().value).toBe('rejected');
    expect(frames).toMatchObject([{ type: -1, code: 'nick_taken' }]);
    expect(closes).toEqual([{ code: 1008, reason: 'nick_taken' }]);
    expect(hellos).toEqual([]);
  });

  it('is answered unavailable and closed with 1013 when the claim cannot be made', async () => {
    const { session, frames, closes } = clusteredSession(async () => {
      throw new Error('Redis is away');
    });
    await settle();
    expect(session.getSnapshot().value).toBe('rejected');
    expect(frames).toMatchObject([{ type: -1, code: 'unavailable' }]);
    expect(closes).toEqual([{ code: 1013, reason: 'cluster unavailable' }]);
  });
});
