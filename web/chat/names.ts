/**
 * @module names: the server's rule for nicks and channel names, checked in
 * the page so a person hears which part of a name is wrong before anything
 * is sent, in words rather than a refusal code.
 *
 * The rule is machines/names.ts's (the page is compiled on its own and cannot
 * import it); test/web-names.test.ts holds the two to the same answers.
 */

/** The longest nick or channel name, in characters (code points), as machines/limits.ts says. */
export const MAX_NAME_LENGTH = 32;

const NAME_CHARACTER = /^[\p{L}\p{N}_-]$/u;

/** What is wrong with `name` as a nick or bare channel name, in words; undefined when the server will accept it. */
function nameProblem(name: string, what: 'nick' | 'channel name'): string | undefined {
  const characters = [...name];
  if (characters.length === 0) return what === 'nick' ? 'Type a nick first.' : 'Type a channel name first, such as #django.';
  if (characters.length > MAX_NAME_LENGTH) {
    return `Too long: ${characters.length} characters, and a ${what} has at most ${MAX_NAME_LENGTH}.`;
  }
  const bad = characters.find((character) => !NAME_CHARACTER.test(character));
  if (bad === undefined) return undefined;
  if (/\s/u.test(bad)) return `A ${what} cannot contain spaces; try _ or - instead.`;
  return `“${bad}” is not allowed in a ${what}: use letters, digits, _ or -.`;
}

export function nickProblem(nick: string): string | undefined {
  return nameProblem(nick, 'nick');
}

/** Leading `#`s are optional in a channel name, as on the server. */
export function channelProblem(name: string): string | undefined {
  return nameProblem(name.replace(/^#+/, ''), 'channel name');
}

/** The form the server names a channel in (`#django`), or undefined when the name breaks the rule. */
export function canonicalChannel(name: string): string | undefined {
  return channelProblem(name) === undefined ? `#${name.replace(/^#+/, '').toLowerCase()}` : undefined;
}
