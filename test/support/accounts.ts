/**
 * @module accounts: the real account service on an in-memory store, for
 * machine tests, with hashing cheap enough for hundreds of unit tests.
 * Integration tests use the server's own, at full cost.
 */
import { Accounts } from '../../src/accounts/accounts.js';
import { MemoryStore } from '../../src/store/memory.js';

/** scrypt at N=16: the same code path as the real cost, in well under a millisecond. */
export const CHEAP_SCRYPT = { ln: 4, r: 8, p: 1 };

export function testAccounts(): Accounts {
  return new Accounts(new MemoryStore(), { policy: { scrypt: CHEAP_SCRYPT } });
}

/**
 * Resolves once the promise actors started so far (store look-ups, cheap
 * hashes) have answered, and the outbox has stored and delivered what they
 * queued: it may wait a few turns to group a commit (see machines/outbox.ts).
 */
export async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
