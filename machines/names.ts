/**
 * @module names: the rules for nicks and channel names, as pure functions.
 */
import { MAX_NAME_LENGTH } from './limits.js';

// Letters and digits of any script, plus `_` and `-`; length is counted in code points.
const NAME_PATTERN = new RegExp(`^[\\p{L}\\p{N}_-]{1,${MAX_NAME_LENGTH}}$`, 'u');

export function isValidNick(nick: string): boolean {
  return NAME_PATTERN.test(nick);
}

/** Nicks are unique regardless of case: `Alice` and `alice` are one user. */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

/**
 * The canonical form of a channel name (`#` plus the lower-cased name), or
 * undefined when the name is invalid. Leading `#`s are optional: `django`,
 * `#django` and `##django` are one channel.
 */
export function canonicalChannel(name: string): string | undefined {
  const bare = name.replace(/^#+/, '');
  return NAME_PATTERN.test(bare) ? `#${bare.toLowerCase()}` : undefined;
}
