/**
 * @module server-actor: connecting fake clients to a server actor in machine
 * tests, without the transport: each gets a connection id, a recording
 * connection and its session actor.
 */
import type { AnyActorRef } from 'xstate';
import { settle } from './accounts.js';
import { FakeConnection } from './fake-connection.js';

/** Opens connections on `server`, numbered from 1; each resolves once its nick has been looked up and answered. */
export function connector(server: AnyActorRef) {
  let next = 0;
  return async (nick: string) => {
    const id = String(++next);
    const connection = new FakeConnection();
    server.send({ type: 'connection.open', id, nick, address: '127.0.0.1', connection });
    const session = server.system.get(`session:${id}`) as AnyActorRef;
    await settle();
    return { id, connection, session, send: (event: Parameters<AnyActorRef['send']>[0]) => session.send(event) };
  };
}
