/**
 * @module sdk: clients of the SDK (client/) for tests, over `ws`, closed
 * after each test; and a recorder of the events a client delivers, so tests
 * can wait for them and check that nothing came twice.
 */
import { WebSocket } from 'ws';
import { afterEach } from 'vitest';
import { ChatClient, type ClientEventMap, type ClientEventName, type ConnectOptions } from '../../client/index.js';

/** Fast retries, so reconnect tests do not wait on the production backoff. */
export const TEST_BACKOFF = { baseMs: 50, maxMs: 400 };

export type SdkOptions = Omit<ConnectOptions, 'WebSocket'> & { WebSocket?: ConnectOptions['WebSocket'] };

/** Registers cleanup with the calling test file; returns a function that creates (not starts) a client. */
export function useSdk(): (options: SdkOptions) => ChatClient {
  const clients: ChatClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  return (options) => {
    const client = new ChatClient({ WebSocket, backoff: TEST_BACKOFF, ...options });
    clients.push(client);
    return client;
  };
}

/** Every event of the given kinds a client delivers, in order, with a way to wait for one. */
export class Recorder {
  readonly events: ClientEventMap[ClientEventName][] = [];
  private waiters: (() => void)[] = [];

  constructor(client: ChatClient, names: ClientEventName[] = ['message', 'join', 'leave', 'login', 'logout', 'recovered', 'gap', 'state', 'token', 'error']) {
    for (const name of names) {
      client.on(name, (event) => {
        this.events.push(event);
        for (const wake of this.waiters.splice(0)) wake();
      });
    }
  }

  of<K extends ClientEventName>(name: K): ClientEventMap[K][] {
    return this.events.filter((event) => event.type === name) as ClientEventMap[K][];
  }

  /** Resolves with the first recorded event (already or later) that matches, or fails after `timeoutMs`. */
  async waitFor<K extends ClientEventName>(name: K, predicate: (event: ClientEventMap[K]) => boolean = () => true, timeoutMs = 5_000): Promise<ClientEventMap[K]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.of(name).find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a ${name} event; had ${JSON.stringify(this.events.map((e) => e.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
