/**
 * @module auth: the steps of the account protocol as a client takes them, for
 * tests: register a nick, and sign in to a registered one.
 */
import type { Frame, TestClient } from './client.js';

/** What a test server harness offers that these steps use (see support/server.ts). */
interface Connecting {
  login(nick: string): Promise<TestClient>;
  connect(nick: string): Promise<TestClient>;
}

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

/** Registers `nick` on a connection of its own, then leaves: the nick is registered and nobody holds it. */
export async function registerAndLeave(harness: Connecting, nick: string, password = PASSWORD): Promise<void> {
  const client = await harness.login(nick);
  await register(client, nick, password);
  await client.close();
}

/** Connects as a registered nick and awaits the server's demand for credentials. */
export async function connectAsked(harness: Connecting, nick: string): Promise<TestClient> {
  const client = await harness.connect(nick);
  await expectAuthRequired(client);
  return client;
}
