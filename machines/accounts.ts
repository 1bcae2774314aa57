/**
 * @module accounts: the account effects a session waits on, as actor logic
 * that `src/` provides.
 *
 * Looking a nick up, checking a password and storing an account all touch
 * the store and a password hasher, so the machines only name them here, with
 * the shapes of what goes in and comes out. `src/effects.ts` provides the
 * real ones; tests provide fakes. The defaults throw, so a server wired
 * without accounts fails loudly at the first connection instead of letting
 * anyone in as anyone.
 */
import { fromPromise } from 'xstate';

export type LoginFailure = 'bad_password' | 'bad_token' | 'auth_throttled';

export type LoginOutcome = { ok: true; token: string } | { ok: false; code: LoginFailure };
export type RegisterOutcome = { ok: true } | { ok: false; code: 'already_registered' | 'auth_throttled' };
export type ChangeOutcome = { ok: true } | { ok: false; code: 'bad_password' | 'auth_throttled' | 'not_registered' };

export interface LookupInput {
  nick: string;
}
/** A password or a token, never both: the protocol layer made sure. */
export interface LoginInput {
  nick: string;
  address: string;
  password?: string;
  token?: string;
}
export interface RegisterInput {
  nick: string;
  password: string;
}
export interface ChangeInput {
  nick: string;
  address: string;
  oldPassword: string;
  newPassword: string;
}

function notProvided(name: string): () => never {
  return () => {
    throw new Error(`The session machine's '${name}' actor was not provided: provide the account effects from src/effects.ts (or a fake in tests).`);
  };
}

/** The actors the session machine invokes, by the names it invokes them under. */
export const accountActors = {
  lookupAccount: fromPromise<{ registered: boolean }, LookupInput>(notProvided('lookupAccount')),
  logIn: fromPromise<LoginOutcome, LoginInput>(notProvided('logIn')),
  register: fromPromise<RegisterOutcome, RegisterInput>(notProvided('register')),
  changePassword: fromPromise<ChangeOutcome, ChangeInput>(notProvided('changePassword')),
};
