/**
 * @module refusals: the ways the server can refuse to let this page be
 * logged in, and what to tell the person about each. A refusal is final:
 * retrying would be refused again, so the page stops and asks for a change.
 *
 * To add one, add its case here; chat.ts's `showRefusal` shows whatever this
 * says and offers the step it names. A registered nick (`auth_required`) is
 * not one: the page asks for its password instead (see sign-in.ts).
 */

export type Refusal = 'nick_taken' | 'invalid_nick' | 'signed_in_elsewhere';

/** Close code: another login with this nick took the session over. */
export const CLOSE_SIGNED_IN_ELSEWHERE = 4001;
const CLOSE_REFUSED = 1008;

const ERROR_REFUSALS: ReadonlySet<string> = new Set<Refusal>(['nick_taken', 'invalid_nick']);

/** The refusal an error frame carries, if it is one. */
export function refusalOfError(code: unknown): Refusal | undefined {
  return typeof code === 'string' && ERROR_REFUSALS.has(code) ? (code as Refusal) : undefined;
}

/** The refusal a close carries: a takeover, or a refused login whose error frame was missed (the reason is its code). */
export function refusalOfClose(code: number, reason: string): Refusal | undefined {
  if (code === CLOSE_SIGNED_IN_ELSEWHERE) return 'signed_in_elsewhere';
  return code === CLOSE_REFUSED ? refusalOfError(reason) : undefined;
}

export interface RefusalText {
  /** What happened, in plain words. */
  message: string;
  /** What the person can do next, which the login form offers. */
  next: 'another-nick' | 'log-in-again';
}

/** `wasIn`: the page had been logged in (this happened while reconnecting or later), so its channels are kept for the next login. */
export function explainRefusal(refusal: Refusal, nick: string, wasIn: boolean): RefusalText {
  const kept = wasIn ? ' Your channels and unsent messages are kept for when you log in again.' : '';
  switch (refusal) {
    case 'nick_taken':
      return {
        message: wasIn
          ? `While this page was reconnecting, someone else logged in as “${nick}”. Pick another nick to go on.${kept}`
          : `Someone is already using the nick “${nick}”. Pick another one.`,
        next: 'another-nick',
      };
    case 'invalid_nick':
      return { message: `The server does not accept “${nick}” as a nick. Pick another one.${kept}`, next: 'another-nick' };
    case 'signed_in_elsewhere':
      return {
        message: `You were signed in as “${nick}” somewhere else, so this page was signed out. Log in again to use it here.${kept}`,
        next: 'log-in-again',
      };
  }
}
