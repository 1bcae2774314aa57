/**
 * @module fuzz.test: property-based tests: whatever several clients send, the
 * server keeps running, answers each rejected frame with exactly one error,
 * and a well-behaved client's view of its channel stays exactly right.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TestClient, type Frame } from '../support/client.js';
import { useServer } from '../support/server.js';

const start = useServer();

/** A frame a fuzzing client sends, and whether the server must refuse it. */
type FuzzFrame = { kind: 'text'; text: string; mustFail: boolean } | { kind: 'binary'; bytes: Uint8Array; mustFail: true };

const hostileStrings = fc.oneof(
  fc.constantFrom('', '#', '###', '<img src=x onerror=alert(1)>', '\u0000', '\ud800', '😀', 'a'.repeat(40), '../../etc', 'CALM'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);

/** Never `calm`, in any spelling: the well-behaved pair's channel stays theirs. */
const notCalm = (value: unknown) => typeof value !== 'string' || value.replace(/^#+/, '').toLowerCase() !== 'calm';

const hostileField = fc.oneof(hostileStrings, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));

const fuzzFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  // Any JSON value that is not an object.
  fc
    .oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 4 }))
    .map((value) => ({ kind: 'text' as const, text: JSON.stringify(value), mustFail: true })),
  // Random text, which is rarely JSON at all.
  fc.string({ maxLength: 200 }).map((text) => {
    let isObject = false;
    try {
      const value = JSON.parse(text) as unknown;
      isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    } catch {
      isObject = false;
    }
    return { kind: 'text' as const, text, mustFail: !isObject };
  }),
  // Random bytes, as a binary frame.
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'binary' as const, bytes, mustFail: true as const })),
  // Valid shapes with hostile values; logging out (type 3) is left out so the fuzzer stays connected.
  fc
    .record(
      {
        type: fc.constantFrom(-1, 0, 1, 2, 4, 5, 6, 7, 1.5, '0', null),
        channel: hostileField,
        dest: hostileField,
        message: hostileField,
        id: hostileField,
        user: hostileField,
      },
      { requiredKeys: ['type'] },
    )
    .filter((frame) => notCalm(frame.channel) && notCalm(frame.dest))
    .map((frame) => ({ kind: 'text' as const, text: JSON.stringify(frame), mustFail: false })),
);

describe('fuzzing', () => {
  it('never crashes, answers each rejected frame with exactly one error, and keeps a bystander view exact', async () => {
    const harness = await start({ limits: { rateLimit: 0 } });
    const alice = await harness.login('alice');
    const bob = await harness.login('bob');
    for (const client of [alice, bob]) {
      client.send({ type: 4, channel: 'calm' });
      await client.until((frame) => frame.type === 4 && frame.user === (client === alice ? 'alice' : 'bob'));
    }
    await alice.until((frame) => frame.type === 4 && frame.user === 'bob');
    let round = 0;
    let conversation = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fuzzFrame), { minLength: 1, maxLength: 25 }), async (steps) => {
        round += 1;
        const fuzzers = await Promise.all([0, 1, 2].map((n) => TestClient.login(harness.server.url, `fuzz${round}x${n}`)));
        try {
          for (const [index, frame] of steps) {
            const fuzzer = fuzzers[index]!;
            if (frame.kind === 'binary') fuzzer.ws.send(frame.bytes, { binary: true });
            else fuzzer.send(frame.text);
            // A list request right after is a barrier: everything the frame caused arrives before its answer.
            const barrier = `b${round}-${Math.random()}`;
            fuzzer.send({ type: 6, id: barrier });
            const replies: Frame[] = [];
            for (;;) {
              const reply = await fuzzer.next();
              if (reply.type === 6 && reply.id === barrier) break;
              replies.push(reply);
            }
            const errors = replies.filter((reply) => reply.type === -1);
            expect(errors.length, `replies to ${JSON.stringify(frame)}`).toBeLessThanOrEqual(1);
            if (frame.mustFail) expect(errors, `replies to ${JSON.stringify(frame)}`).toHaveLength(1);
            // No frame is silently dropped: it is refused, or its effect (a join, a list, a message) shows.
            expect(replies.length, `replies to ${JSON.stringify(frame)}`).toBeGreaterThanOrEqual(1);
            for (const error of errors) expect(typeof error.code).toBe('string');
          }
          // The well-behaved pair: bob hears alice's messages in #calm exactly, and nothing else of #calm.
          const said = [`one ${++conversation}`, `two ${conversation}`];
          for (const message of said) alice.send({ type: 0, dest: 'calm', message });
          const heard: unknown[] = [];
          while (heard.length < said.length) {
            const frame = await bob.next();
            if (frame.type === 0 || ((frame.type === 4 || frame.type === 5) && frame.channel === '#calm')) heard.push(frame.message ?? frame);
          }
          expect(heard).toEqual(said);
          bob.send({ type: 6, channel: 'calm', id: 'members' });
          await bob.until((frame) => frame.type === 6 && frame.id === 'members').then((frame) => expect(frame.users).toEqual(['alice', 'bob']));
        } finally {
          await Promise.all(fuzzers.map((fuzzer) => fuzzer.close()));
        }
        for (const client of [alice, bob]) {
          while (client.pending.length > 0) {
            const frame = await client.next();
            expect([0, 2, 3]).toContain(frame.type);
          }
        }
      }),
      { numRuns: 100 },
    );
    expect(harness.server.actor.getSnapshot().status).toBe('active');
  }, 120_000);
});
