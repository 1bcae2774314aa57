/**
 * @module effects: the root machine with its I/O plugged in.
 *
 * The machines name the effects they wait on (see `machines/accounts.ts`)
 * and this is the one place that provides them: each is a promise actor over
 * the {@link Accounts} service, invoked by a session while it is in the
 * state that waits for it, so the inspector shows the wait as a state and
 * the call as a child actor. The outbox is provided here too, with the store
 * that numbers and keeps channel events.
 */
import { fromPromise, type AnyActorLogic } from 'xstate';
import type { ClaimInput, ClaimOutcome } from '../machines/claims.js';
import type { ChangeInput, ChangeOutcome, LoginInput, LoginOutcome, LookupInput, RegisterInput, RegisterOutcome } from '../machines/accounts.js';
import { createOutbox, type OutboxSettings } from '../machines/outbox.js';
import { sessionsOf, withSessions, type serverMachine } from '../machines/server.machine.js';
import { sessionMachine } from '../machines/session.machine.js';
import type { Accounts } from './accounts/accounts.js';

/** The session machine (or a variant) with the account effects done by `accounts`. */
export function sessionWithAccounts(accounts: Accounts, session: typeof sessionMachine = sessionMachine) {
  return session.provide({
    actors: {
      lookupAccount: fromPromise<{ registered: boolean }, LookupInput>(async ({ input }) => ({
        registered: await accounts.isRegistered(input.nick),
      })),
      logIn: fromPromise<LoginOutcome, LoginInput>(({ input }) =>
        input.token !== undefined
          ? accounts.logInWithToken(input.nick, input.token)
          : accounts.logInWithPassword(input.nick, input.password ?? '', input.address),
      ),
      register: fromPromise<RegisterOutcome, RegisterInput>(({ input }) => accounts.register(input.nick, input.password)),
      changePassword: fromPromise<ChangeOutcome, ChangeInput>(({ input }) =>
        accounts.changePassword(input.nick, input.oldPassword, input.newPassword, input.address),
      ),
    },
  });
}

/** What a server runs with besides its accounts: the outbox's logic, and, in a cluster, the nick claim. */
export interface Effects {
  /** Settings for the single-node outbox, or a whole outbox logic (a cluster's). */
  outbox?: OutboxSettings | AnyActorLogic;
  claimNick?: (input: ClaimInput) => Promise<ClaimOutcome>;
}

/**
 * `machine` (the server machine or a test's variant of it) spawning sessions
 * whose account effects are done by `accounts`, with the given outbox and
 * claim. A variant's own session implementation is kept: the effects are
 * provided on top of it.
 */
export function withEffects(machine: typeof serverMachine, accounts: Accounts, effects: Effects = {}): typeof serverMachine {
  const { outbox, claimNick } = effects;
  let session = sessionWithAccounts(accounts, sessionsOf(machine));
  if (claimNick) session = session.provide({ actors: { claimNick: fromPromise<ClaimOutcome, ClaimInput>(({ input }) => claimNick(input)) } });
  const outboxLogic = outbox === undefined ? undefined : 'history' in outbox ? createOutbox(outbox) : outbox;
  const sessions = withSessions(machine, session);
  return (outboxLogic ? sessions.provide({ actors: { outbox: outboxLogic } }) : sessions) as typeof serverMachine;
}
