/**
 * @module passwords: the server's password rule, checked in the page so a
 * person hears what is wrong before anything is sent (and before a wrong
 * guess counts towards the server's throttling).
 *
 * The numbers are machines/limits.ts's (the page is compiled on its own and
 * cannot import it); test/web-passwords.test.ts holds the two to the same
 * answers. Length is counted as the server counts it: UTF-16 code units.
 */

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** What is wrong with `password`, in words; undefined when the server will take it. */
export function passwordProblem(password: string): string | undefined {
  if (password.length === 0) return 'Type a password first.';
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `Too short: ${password.length} characters, and a password has at least ${MIN_PASSWORD_LENGTH}.`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `Too long: ${password.length} characters, and a password has at most ${MAX_PASSWORD_LENGTH}.`;
  }
  return undefined;
}
