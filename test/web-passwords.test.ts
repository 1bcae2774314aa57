/**
 * @module web-passwords.test: the chat page checks a password before sending
 * it; it must agree with the server, or it would refuse passwords the server
 * takes, or send ones it refuses (and, signing in, waste a try that counts
 * towards throttling).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../machines/limits.js';
import { parseClientFrame } from '../src/protocol.js';

/** web/chat/passwords.ts as the browser gets it: compiled by `npm run build`. */
interface PagePasswords {
  MIN_PASSWORD_LENGTH: number;
  MAX_PASSWORD_LENGTH: number;
  passwordProblem(password: string): string | undefined;
}
const page = (await import(new URL('../dist/web/chat/passwords.js', import.meta.url).href)) as PagePasswords;

/** Whether the server takes `password` as a new one. */
function serverTakes(password: string): boolean {
  const command = parseClientFrame(JSON.stringify({ type: 1, password }));
  return command.type === 'client.register';
}

describe("the page's password rule", () => {
  it('has the server’s limits', () => {
    expect([page.MIN_PASSWORD_LENGTH, page.MAX_PASSWORD_LENGTH]).toEqual([MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH]);
  });

  it('takes exactly the passwords the server takes, counting as it counts (astral characters are two)', () => {
    const character = fc.constantFrom('a', 'ë', '用', ' ', '😀', '𝒜');
    const around = (n: number) => fc.array(character, { minLength: Math.max(0, n - 3), maxLength: n + 3 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(around(MIN_PASSWORD_LENGTH), around(MAX_PASSWORD_LENGTH / 2), fc.string({ maxLength: 12 })), (password) => {
        expect(page.passwordProblem(password) === undefined).toBe(serverTakes(password));
      }),
      { numRuns: 1_000 },
    );
    for (const length of [MIN_PASSWORD_LENGTH - 1, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH + 1]) {
      const password = 'p'.repeat(length);
      expect(page.passwordProblem(password) === undefined).toBe(serverTakes(password));
    }
  });

  it.each([
    ['', 'Type a password first.'],
    ['short', 'Too short: 5 characters, and a password has at least 8.'],
    ['x'.repeat(1025), 'Too long: 1025 characters, and a password has at most 1024.'],
  ])('says what is wrong with a password of %# characters', (password, problem) => {
    expect(page.passwordProblem(password)).toBe(problem);
  });
});
