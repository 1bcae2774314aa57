/**
 * @module messages: what the coordinator and the client workers tell each
 * other over the `child_process.fork` IPC channel.
 *
 * Times are on the shared monotonic clock of `payload.nowMicros`, so a window
 * opened by the coordinator means the same instants in every worker.
 */

/** One benchmark client: its nick, its channel (if any) and its global sender number. */
export interface ClientPlan {
  nick: string;
  channel?: string;
  sender: number;
  /** The server (a cluster's node) this client connects to, instead of the command's `url`. */
  url?: string;
}

export interface Window {
  /** Deliveries received, and latencies of messages sent, inside [from, to) count. */
  from: number;
  to: number;
}

export type Command =
  /** Logs the clients in, joins each to its channel, and answers `ready` once all have seen their own join. */
  | {
      cmd: 'login';
      url: string;
      clients: ClientPlan[];
      /**
       * Also checks every channel event's offset: each one the last plus one
       * from the client's own join on, and the messages' order summed up per
       * client in `drained.orders`, for the coordinator to compare across members.
       */
      checkOffsets?: boolean;
    }
  /** Every client floods its channel, keeping at most `window` of its messages unacknowledged. */
  | {
      cmd: 'flood';
      window: number;
      measure: Window;
      /**
       * A message is acknowledged when every member this worker holds has it,
       * not when its sender's echo comes back: in a cluster, an echo from the
       * sender's node says nothing of the other nodes, which could fall
       * behind without bound (and close their clients as slow consumers).
       */
      ackByAll?: boolean;
    }
  /** The worker's clients send `rate` messages a second between them, open loop. */
  | { cmd: 'rate'; rate: number; tickMs: number; measure: Window }
  /** `concurrency` loops connect a fresh nick, wait for its login, and disconnect. */
  | { cmd: 'churn'; url: string; prefix: string; concurrency: number; measure: Window }
  /** Stops sending (or churning) and answers `stopped` with what was sent. */
  | { cmd: 'stop' }
  /** Waits until every client has the frames it must have, then answers `drained`. */
  | { cmd: 'drain'; expected: Expected; timeoutMs: number }
  /**
   * Logs in nicks `prefix + from` … `prefix + (from + count - 1)` on raw
   * WebSocket connections, at most `inFlight` at a time (a sliding window: the
   * next one starts as soon as one in flight is logged in, that is, has its
   * own login frame and its user list); answers `ready`. They stay open,
   * counting the logins announced to them (see `Expected.users`).
   */
  | { cmd: 'storm'; url: string; prefix: string; from: number; count: number; inFlight: number }
  /** Drops every socket and forgets all state; answers `reset`. */
  | { cmd: 'reset' };

export interface Expected {
  /** Type 0 frames every member of a channel must have received, by channel. */
  messages?: Record<string, number>;
  /** Login (type 2) and logout (type 3) frames every logged-in client must have received since `login`. */
  logins?: number;
  /**
   * Users logged in at the end of a storm: every storm client must have had
   * each of them once, in its user list or announced by a login frame after
   * its own.
   */
  users?: number;
}

export type Reply =
  | { reply: 'ready'; clients: number }
  | { reply: 'stopped'; sentByChannel: Record<string, number>; cycles: number; cyclesInWindow: number }
  | {
      reply: 'drained';
      ok: boolean;
      /** Deliveries received inside the window. */
      delivered: number;
      /** Latencies in microseconds of deliveries whose message was sent inside the window. */
      latencies: number[];
      /** Why the run failed, for the report; empty when ok. */
      problems: string[];
      /**
       * With `checkOffsets`: by channel, one summary per member of the
       * messages it received, `first offset:count:hash of (offset, sender,
       * seq) in order`; members who heard the same messages in the same
       * order with the same offsets have the same summary.
       */
      orders?: Record<string, string[]>;
    }
  | { reply: 'reset' }
  | { reply: 'error'; message: string };
