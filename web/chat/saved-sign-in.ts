/**
 * @module saved-sign-in: what this browser remembers about signing in, in
 * localStorage: a resume token per registered nick (so a reconnect or a
 * reload does not ask for the password again), and which nick to sign in as
 * by itself when the page is opened.
 *
 * Only the token is kept, never a password. Storage can be refused (private
 * windows, full quota, a policy): then nothing is remembered, and the page
 * asks for the password as it would on any other browser.
 */

const TOKEN_PREFIX = 'xstate-chat:token:';
const SIGNED_IN_AS = 'xstate-chat:signed-in-as';

/** Nicks are one regardless of letter case, as on the server. */
function tokenKey(nick: string): string {
  return TOKEN_PREFIX + nick.toLowerCase();
}

function read(key: string): string | undefined {
  try {
    return localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

function write(key: string, value: string | undefined): void {
  try {
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Not remembered: the next sign-in asks for the password, which is what a new browser does too.
  }
}

export function savedToken(nick: string): string | undefined {
  return read(tokenKey(nick));
}

/** Keeps the newest token: each sign-in hands out a fresh one, and earlier ones expire on their own. */
export function saveToken(nick: string, token: string): void {
  write(tokenKey(nick), token);
  write(SIGNED_IN_AS, nick);
}

/** "Forget me on this browser", and a token the server no longer takes. */
export function forgetToken(nick: string): void {
  write(tokenKey(nick), undefined);
  if (read(SIGNED_IN_AS)?.toLowerCase() === nick.toLowerCase()) write(SIGNED_IN_AS, undefined);
}

/** The nick to sign in as when the page opens: only one whose token is kept. */
export function nickToResume(): string | undefined {
  const nick = read(SIGNED_IN_AS);
  return nick !== undefined && savedToken(nick) !== undefined ? nick : undefined;
}

/**
 * Logged out, or signed in elsewhere: the page stops signing in by itself when
 * opened (two tabs would otherwise take the nick from each other for ever),
 * but keeps the token, so typing the nick still signs in without the password.
 */
export function stopResuming(): void {
  write(SIGNED_IN_AS, undefined);
}
