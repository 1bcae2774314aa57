/**
 * @module public: what the rest of the server knows of cluster mode without
 * loading it. The Redis client and the cluster's modules are imported only
 * when `--redis` is given: a server that runs alone never pays their memory
 * (tens of MiB, which a reconnect storm's peak would carry for nothing).
 */

/** What `/metrics` times, one histogram series each. */
export const REDIS_OPERATIONS = ['sequence', 'read', 'claim', 'release', 'publish', 'users', 'members', 'subscribe'] as const;
export type RedisOperation = (typeof REDIS_OPERATIONS)[number];
export type RedisTimer = (operation: RedisOperation, seconds: number) => void;

/** Redis could not be reached when a node started: the CLI prints the message as one line and exits 1. */
export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}
