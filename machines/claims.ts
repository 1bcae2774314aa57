/**
 * @module claims: the cluster-wide nick claim a session waits on before it
 * says hello, as actor logic that `src/` provides.
 *
 * On one node the server actor's registry decides who holds a nick, in its
 * own mailbox. With several nodes no mailbox sees every login, so a session
 * first claims its nick where every node looks (Redis), and only the winner
 * goes on to log in. The default throws, so a clustered server wired without
 * the claim fails loudly at the first login instead of letting two users
 * share a nick.
 */
import { fromPromise } from 'xstate';

export interface ClaimInput {
  /** The connection id the nick is claimed for. */
  id: string;
  nick: string;
  /** It proved it owns the registered nick: it takes the nick over from whoever holds it. */
  owner: boolean;
}

export type ClaimOutcome = { ok: true } | { ok: false; code: 'nick_taken' };

export const claimActors = {
  claimNick: fromPromise<ClaimOutcome, ClaimInput>(() => {
    throw new Error("The session machine's 'claimNick' actor was not provided: a clustered server provides it from src/cluster (or a fake in tests).");
  }),
};
