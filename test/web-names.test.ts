/**
 * @module web-names.test: the chat page checks names before connecting; it
 * must agree with the server on every name, or it would refuse nicks the
 * server takes, or send ones it refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalChannel as serverChannel, isValidNick } from '../machines/names.js';
import { MAX_NAME_LENGTH as SERVER_MAX } from '../machines/limits.js';

/** web/chat/names.ts as the browser gets it: compiled by `npm run build` (the page is its own TypeScript project). */
interface PageNames {
  MAX_NAME_LENGTH: number;
  nickProblem(nick: string): string | undefined;
  canonicalChannel(name: string): string | undefined;
}
const { MAX_NAME_LENGTH: PAGE_MAX, nickProblem, canonicalChannel: pageChannel } = (await import(
  new URL('../dist/web/chat/names.js', import.meta.url).href
)) as PageNames;

/** Names near the rule's edges: letters of several scripts, digits, allowed and refused punctuation, spaces, astral letters. */
const nameCharacter = fc.constantFrom('a', 'Z', 'ë', '用', 'я', '٣', '7', '_', '-', '#', ' ', '\t', '!', '.', '😀', '𝒜', '\u0301');
const name = fc.array(nameCharacter, { maxLength: SERVER_MAX + 2 }).map((parts) => parts.join(''));

describe("the page's name rule", () => {
  it('has the server’s length limit', () => {
    expect(PAGE_MAX).toBe(SERVER_MAX);
  });

  it('accepts exactly the nicks the server accepts', () => {
    fc.assert(fc.property(fc.oneof(name, fc.string({ maxLength: 40 })), (nick) => {
      expect(nickProblem(nick) === undefined).toBe(isValidNick(nick));
    }), { numRuns: 2_000 });
  });

  it('names channels as the server does, and refuses the same ones', () => {
    fc.assert(fc.property(fc.oneof(name, fc.string({ maxLength: 40 })), (channel) => {
      expect(pageChannel(channel)).toBe(serverChannel(channel));
    }), { numRuns: 2_000 });
  });

  it.each([
    ['', 'Type a nick first.'],
    ['no spaces', 'A nick cannot contain spaces'],
    ['bang!', '“!” is not allowed in a nick'],
    ['x'.repeat(33), 'Too long: 33 characters, and a nick has at most 32.'],
  ])('says what is wrong with %j', (nick, problem) => {
    expect(nickProblem(nick)).toContain(problem);
  });
});
