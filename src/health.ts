/**
 * @module health: what `GET /healthz` reports, decided in one place.
 *
 * Load balancers read the HTTP status, people and dashboards the JSON. Every
 * status but `ok` answers 503, so a node that is draining or degraded stops getting new clients without the balancer
 * having to understand why.
 */
/** Every status `/healthz` can report; each is documented in the README. */
export type HealthStatus = 'ok' | 'draining' | 'degraded';

export interface Health {
  status: HealthStatus;
  /** Why the status is not `ok`, in words for whoever reads the probe's output. */
  reason?: string;
  /** Open sessions. */
  sessions: number;
  /** Channels with members. */
  channels: number;
}

/** The parts of the server actor's snapshot health depends on. */
export interface ServerView {
  value: unknown;
  context: { sessions: { size: number }; channels: { size: number } };
}

/** What the store's writes are doing: see `store/write-health.ts`. */
export interface WritesView {
  /** Why writes fail, or undefined while they work. */
  failing: string | undefined;
}

/**
 * The one function that decides the server's status. Draining wins over
 * degraded: a server shutting down takes no clients whatever its disk does.
 */
export function checkHealth(server: ServerView, writes: WritesView = { failing: undefined }): Health {
  const counts = { sessions: server.context.sessions.size, channels: server.context.channels.size };
  if (server.value !== 'serving') {
    return { status: 'draining', reason: 'The server is shutting down and takes no new connections.', ...counts };
  }
  if (writes.failing !== undefined) {
    return {
      status: 'degraded',
      reason: `The store cannot write (${writes.failing}): messages, registrations and logins are answered unavailable until it can again.`,
      ...counts,
    };
  }
  return { status: 'ok', ...counts };
}

/** 200 only when all is well: anything else tells a load balancer to route elsewhere. */
export function httpStatusOf(health: Health): number {
  return health.status === 'ok' ? 200 : 503;
}
