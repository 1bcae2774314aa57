/**
 * @module auth: the steps of the account protocol as a client takes them, for
 * tests: register a nick, and sign in to a registered one.
 */
import type { Frame, TestClient } from './client.js';

export const PASSWORD = 'correct horse battery';

/** Registers the client's nick and checks the answer. */
export async function register(client: TestClient, nick: string, password = PASSWORD): Promise<void> {
  client.send({ type: 1, password });
  await client.expect({ type: 1, user: nick });
}

/** Awaits the server's demand for credentials on a registered nick. */
export async function expectAuthRequired(client: TestClient): Promise<Frame> {
  return client.expectError('auth_required');
}

/**
 * Signs in to a registered nick on a client that has been asked for
 * credentials, and returns the resume token from its own login frame (after
 * consuming the user list that follows it).
 */
export async function signIn(client: TestClient, nick: string, credential: { password: string } | { token: string }): Promise<string> {
  client.send({ type: 2, user: nick, ...credential });
  const own = await client.next();
  if (own.type !== 2 || own.user !== nick || typeof own.token !== 'string') {
    throw new Error(`expected ${nick}'s own login frame with a token, got ${JSON.stringify(own)}`);
  }
  await client.next((frame) => frame.type === 6);
  return own.token;
}
