/**
 * @module words: what the server's close codes and error codes mean, in the
 * words a person reads in the chat page. Codes are for programs: the page
 * never shows one.
 */

/** Why a connection that was up went down, finishing "Connection lost: …". */
export function closeInWords(code: number): string {
  switch (code) {
    case 1001:
      return 'the server is restarting';
    case 1006:
      return 'the connection dropped (the network, or the server stopped answering)';
    case 1008:
      return 'the server disconnected this page for sending too fast';
    case 1009:
      return 'the server refused a message that was too large';
    case 1011:
      return 'the server ran into an internal error';
    case 4008:
      return 'this page could not keep up with the messages';
    default:
      return 'the server closed the connection';
  }
}

/** What the user was doing when a request failed, so its error says what did not happen. */
export type Action = 'send' | 'join' | 'leave' | 'list' | 'register' | 'sign-in' | 'history';

/**
 * A refused request, in words. `serverText` is the server's own message,
 * used where the page has nothing better: it is written for people too.
 */
export function errorInWords(code: string, action: Action | undefined, serverText: string | undefined): string {
  switch (code) {
    case 'rate_limited':
      return action === 'send'
        ? 'You are sending too fast; this message was not sent.'
        : 'You are sending too fast; wait a moment and try again.';
    case 'not_member':
      return action === 'send' ? 'You are no longer in this channel; this message was not sent.' : 'You are not in that channel.';
    case 'invalid_message':
      return 'This message was not sent: a message has 1 to 2048 characters.';
    case 'weak_password':
      return 'A password has 8 to 1024 characters.';
    case 'already_registered':
      return 'This nick is registered already, so there is nothing more to do.';
    case 'unavailable':
      return action === 'sign-in'
        ? 'The server could not check the password just now. Try again in a moment.'
        : 'The server could not do that just now. Try again in a moment.';
    case 'too_many_channels':
      return 'You are in as many channels as you may be. Leave one before joining another.';
    default:
      return serverText ?? 'The server refused that.';
  }
}

/**
 * Why signing in to a registered nick failed, and what to do about it. Each
 * is shown next to the password field, which stays open for the next try.
 */
export function signInFailureInWords(code: string, nick: string): string | undefined {
  switch (code) {
    case 'bad_password':
      return `That is not the password of “${nick}”. Check it and try again.`;
    case 'bad_token':
      return `This browser’s saved sign-in for “${nick}” no longer works (it expired, or the password was changed). Type the password to sign in.`;
    case 'auth_throttled':
      return `Too many wrong passwords for “${nick}” lately, so the server is not checking any for now. Wait a minute, then try again.`;
    case 'auth_timeout':
      return 'The server stopped waiting for the password. Sign in again.';
    default:
      return undefined;
  }
}
