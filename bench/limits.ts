/**
 * @module limits: every size, rate and duration of the benchmark, in one place.
 *
 * The defaults fit a 2-core machine that runs the server and the load
 * generator side by side: the traffic scenarios take a few minutes, the
 * storm's 10,000 logins the rest (see `STORM_SESSIONS`).
 * Flags of `bench/run.ts` override the ones marked as such.
 */

/** Runs per scenario and server (flag `--runs`); the table shows their medians. */
export const RUNS = 3;
/** Load generator processes (flag `--workers`); each owns a share of the clients. */
export const WORKERS = 2;
/** Traffic before the measured window opens (flag `--warmup`), in ms. */
export const WARMUP_MS = 1_000;
/** The measured window (flag `--duration`), in ms. */
export const MEASURE_MS = 3_000;

/** fanout: one channel of this many members, all sending. */
export const FANOUT_MEMBERS = 50;
/** Unacknowledged messages a flooding sender may have in flight; its own echo acknowledges one. */
export const FANOUT_WINDOW = 4;
/** spread: this many channels of `SPREAD_CHANNEL_SIZE` members, all sending. */
export const SPREAD_CHANNELS = 100;
export const SPREAD_CHANNEL_SIZE = 10;
export const SPREAD_WINDOW = 2;
/** steady: the offered rate, in messages a second, spread evenly over every member. */
export const STEADY_RATE = 2_000;
export const STEADY_CHANNELS = 10;
export const STEADY_CHANNEL_SIZE = 20;
/** How often a steady sender's timer fires, in ms: small enough to keep the offered rate smooth. */
export const STEADY_TICK_MS = 5;
/** churn: users who stay online while others connect and disconnect. */
export const CHURN_ONLINE = 1_000;
/** Connect-then-disconnect loops per worker. */
export const CHURN_CONCURRENCY = 8;
/**
 * storm: clients logged in (flag `--storm-sessions`). Every login is
 * announced to everyone online, so N logins cost N²/2 frames: 4.5M for
 * 3,000, under a minute per server on the shared 2-core reference machine,
 * which keeps the full bench within its quarter of an hour. The 10,000 issue
 * 12 names (`STORM_SESSIONS_TARGET`) are 50M frames: about nine minutes for
 * each bare server, which announces each login in a turn of its own, and a
 * minute and a half for the project: `--storm-sessions 10000`. The storm
 * runs once per server (flag `--storm-runs`), the other scenarios `RUNS` times.
 */
export const STORM_SESSIONS = 3_000;
/** The storm size issue 12's targets name; a smaller run says so in the report. */
export const STORM_SESSIONS_TARGET = 10_000;
export const STORM_RUNS = 1;
/** Clients connecting at once, across all load workers. */
export const STORM_IN_FLIGHT = 200;
/** How long all of them may take to log in, settle and be counted before the run fails. */
export const STORM_TIMEOUT_MS = 20 * 60_000;
/** The bound on the time to log everyone in, in seconds. */
export const STORM_SECONDS_LIMIT = 120;
/** Logins whose server CPU is read, at the start of the storm and at its end. */
export const CONNECT_COST_LOGINS = 100;
/** How often the server's peak resident memory is read during the storm, in ms. */
export const RSS_SAMPLE_MS = 100;

/**
 * cluster: one channel of each of these sizes, members split evenly across
 * the nodes, every member sending as in fanout; two sizes, to show that
 * Redis's work per message does not grow with the members.
 */
export const CLUSTER_SIZES = [10, 50] as const;
export const CLUSTER_WINDOW = 4;
/** cluster: how long Redis must have run no script before a size's counts start, in ms (the previous size's leaves). */
export const CLUSTER_QUIET_MS = 300;

/** auth: registered nicks, each signed in and out by a loop of its own (enough to keep both hashing threads busy). */
export const AUTH_ACCOUNTS = 8;

/** Sockets a worker opens at once while logging channel clients in. */
export const CONNECT_CONCURRENCY = 64;
/** The message text every benchmark client sends, padded to a realistic chat line. */
export const MESSAGE_PADDING = 'x'.repeat(48);

/** How long a server may take to start listening. */
export const SERVER_START_TIMEOUT_MS = 10_000;
/** How long the setup of one run (logins, joins) may take before the run fails. */
export const SETUP_TIMEOUT_MS = 300_000;
/** How long, after senders stop, every expected frame may take to arrive. */
export const DRAIN_TIMEOUT_MS = 30_000;
/** A server counts as settled when it used less CPU than this share over `SETTLE_SAMPLE_MS`. */
export const SETTLE_CPU_SHARE = 0.02;
export const SETTLE_SAMPLE_MS = 500;
/** File descriptors kept free for everything but client sockets when checking `ulimit -n`. */
export const FD_HEADROOM = 200;

/** How long a server is given to finish a forced garbage collection before its memory is read. */
export const GC_WAIT_MS = 1_000;
