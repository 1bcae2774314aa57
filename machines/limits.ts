/**
 * @module limits: every size limit of the protocol, in one place.
 */

/** The longest nick or channel name, in characters (code points). */
export const MAX_NAME_LENGTH = 32;
/** The longest chat message, in characters (UTF-16 code units, as JavaScript counts a string's length). */
export const MAX_MESSAGE_LENGTH = 2048;
/** The longest string request id. */
export const MAX_REQUEST_ID_LENGTH = 64;

/** Events one history page (type 8) may hold, and how many it holds when the client does not say. */
export const MAX_PAGE_LIMIT = 200;
export const DEFAULT_PAGE_LIMIT = 50;
/** The longest epoch a client may send back; the server's own are 16 characters. */
export const MAX_EPOCH_LENGTH = 64;

/** Passwords a registration accepts, in characters; longer ones are refused so hashing stays bounded. */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;
/** Failed logins (wrong password or bad token) after which a connection is closed with 1008. */
export const MAX_LOGIN_FAILURES = 3;
/** Frames kept for a session that cannot answer them yet (its nick is still being checked); more get `rate_limited`. */
export const MAX_HELD_FRAMES = 64;

/**
 * The operational limits of a running server. Each one is a setting (see the
 * README's configuration table); these are the embedded defaults.
 */
export interface ServerLimits {
  /** Largest frame accepted, in bytes; a bigger one closes the socket with 1009. */
  maxPayload: number;
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections from one address; 0 for no cap. */
  maxConnectionsPerIp: number;
  /** Frames a session may send per second, on average; 0 for no limit. */
  rateLimit: number;
  /** Frames a session may send in a burst above the average. */
  rateBurst: number;
  /** Refused frames within {@link FLOOD_WINDOW_MS} after which a session is closed with 1008. */
  floodRefusals: number;
  /** Channels one session may be in at once. */
  maxChannelsPerSession: number;
  /** Bytes queued for one client before it is closed as a slow consumer (4008). */
  maxBufferedBytes: number;
  /** Time between pings; a peer that has not answered one by the next is dropped. */
  pingIntervalMs: number;
  /** Time a shutdown waits for clients to finish closing before terminating them. */
  shutdownGraceMs: number;
  /** Time a client has to send a complete upgrade request. */
  handshakeTimeoutMs: number;
  /** Time a client connecting as a registered nick has to authenticate. */
  authTimeoutMs: number;
  /** Events a joiner hears from before its join; 0 for none. */
  historyOnJoin: number;
  /** The most events a client rejoining with `since` is sent. */
  recoveryLimit: number;
  /** Events kept per channel; older ones are deleted in the background. */
  historySize: number;
  /** Days an event is kept. */
  historyDays: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxPayload: 64 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  rateLimit: 20,
  rateBurst: 40,
  floodRefusals: 100,
  maxChannelsPerSession: 100,
  maxBufferedBytes: 1024 * 1024,
  pingIntervalMs: 30_000,
  shutdownGraceMs: 10_000,
  handshakeTimeoutMs: 10_000,
  authTimeoutMs: 30_000,
  historyOnJoin: 50,
  recoveryLimit: 1_000,
  historySize: 10_000,
  historyDays: 30,
});

/**
 * Sessions one supervisor actor holds at most. XState copies an actor's
 * `children` on every spawn and every stop, so this bounds what a connect or
 * a disconnect costs, however many sessions are online; the server opens
 * another supervisor when every one it has is full.
 */
export const SESSIONS_PER_SUPERVISOR = 256;

/** The window in which {@link ServerLimits.floodRefusals} refusals close a session. */
export const FLOOD_WINDOW_MS = 10_000;

/**
 * Bytes of log lines queued for standard output while its reader is slow or
 * stopped; lines beyond it are dropped and counted, so a stuck log shipper
 * costs the server at most this much memory and never its speed.
 */
export const LOG_QUEUE_BYTES = 1 << 20;
