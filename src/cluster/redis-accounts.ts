/**
 * @module redis-accounts: accounts and resume tokens in Redis, for cluster
 * mode: every node that shares the Redis sees the same accounts, so nick
 * protection and token logins work whichever node a client reaches.
 *
 * Keys, all under the prefix (default `chat:`):
 *
 * - `account:<nick key>`: a hash { nick, passwordHash, createdAt }.
 * - `token:<token hash>`: a hash { key, expiresAt }, the nick key it signs in.
 * - `tokens:<nick key>`: a sorted set of that nick's token hashes, scored by
 *   expiresAt, so a password change can revoke them all and a new token can
 *   find the expired ones.
 *
 * Expiry is decided by comparing the stored `expiresAt` with the `now` the
 * caller passes, as the embedded engines do (and as tests with fake clocks
 * need). Redis TTLs only collect garbage: a token key is given the token's
 * remaining lifetime (expiresAt − now) plus a margin, so Redis drops it some
 * time after it stopped counting, never before.
 *
 * Whatever must change together changes in one Lua script, which Redis runs
 * atomically: creating an account (no reader sees half a hash), and replacing
 * a password with every token revoked. The scripts touch keys they compute
 * from the prefix, so they suit one Redis (with replicas or Sentinel), not
 * Redis Cluster.
 */
import type { Redis } from 'ioredis';
import type { AccountRecord, AccountStore } from '../store/store.js';

export interface RedisAccountsOptions {
  /** Prepended to every key, so several chats (or tests) can share one Redis. Default `chat:`. */
  prefix?: string;
  /**
   * Whether `close()` quits the client. Default false: the client is shared
   * by the other parts of a cluster node, and whoever made it closes it.
   */
  ownsClient?: boolean;
  /** The URL the client was made from, for {@link RedisAccounts.location}; derived from the client's options otherwise. */
  url?: string;
}

/** How long Redis keeps a key after it stopped counting: room for clocks that differ between nodes. */
export const GC_MARGIN_MS = 60 * 60 * 1000;

/**
 * KEYS[1] the account. ARGV: nick, passwordHash, createdAt.
 * Returns 1 when created, 0 when the key was taken.
 */
const CREATE_ACCOUNT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'nick', ARGV[1], 'passwordHash', ARGV[2], 'createdAt', ARGV[3])
return 1`;

/**
 * KEYS[1] the account, KEYS[2] the nick's token set. ARGV: passwordHash, the token key prefix.
 * Does nothing for an unknown account, as the embedded engines do.
 */
const CHANGE_PASSWORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[1])
for _, hash in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  redis.call('DEL', ARGV[2] .. hash)
end
redis.call('DEL', KEYS[2])
return 1`;

/**
 * KEYS[1] the nick's token set, KEYS[2] the new token's key.
 * ARGV: nick key, token hash, expiresAt, now, the token key prefix, margin ms.
 * Forgets the nick's tokens that expired by `now`, then remembers the new one.
 */
const ADD_TOKEN = `
local expiresAt, now, margin = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
for _, hash in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('DEL', ARGV[5] .. hash)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if expiresAt <= now then
  if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
  return 0
end
local ttl = expiresAt - now + margin
redis.call('HSET', KEYS[2], 'key', ARGV[1], 'expiresAt', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], expiresAt, ARGV[2])
-- The set lives as long as its longest-lived token (PTTL is -1 while it has no TTL yet).
local left = redis.call('PTTL', KEYS[1])
if left < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

/** The scripts, as ioredis methods on the client (EVALSHA, falling back to EVAL after a restart emptied Redis's script cache). */
const SCRIPTS = {
  chatCreateAccount: { numberOfKeys: 1, lua: CREATE_ACCOUNT },
  chatChangePassword: { numberOfKeys: 2, lua: CHANGE_PASSWORD },
  chatAddToken: { numberOfKeys: 2, lua: ADD_TOKEN },
} as const;

type ScriptArgument = string | number;
type Scripted = Redis & { [name in keyof typeof SCRIPTS]: (...keysThenArgs: ScriptArgument[]) => Promise<number> };

/** A Redis command of the account store failed: the machines answer the client `unavailable`, the log gets this message. */
export class RedisAccountsError extends Error {
  override name = 'RedisAccountsError';
}

export class RedisAccounts implements AccountStore {
  readonly engine = 'redis';
  readonly location: string;
  private readonly redis: Scripted;
  private readonly prefix: string;
  private readonly ownsClient: boolean;

  constructor(redis: Redis, options: RedisAccountsOptions = {}) {
    // ioredis would prefix the scripts' KEYS but not the token keys they build from ARGV, so revocation would miss them.
    if (redis.options.keyPrefix) {
      throw new Error(`RedisAccounts was given a client with ioredis's keyPrefix '${redis.options.keyPrefix}': make the client without it and pass { prefix } here instead.`);
    }
    this.prefix = options.prefix ?? 'chat:';
    this.ownsClient = options.ownsClient ?? false;
    this.location = maskRedisUrl(options.url ?? urlOf(redis));
    // Defined once per client: other RedisAccounts on the same client reuse them.
    for (const [name, definition] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, definition);
    }
    this.redis = redis as Scripted;
  }

  async findAccount(key: string): Promise<AccountRecord | undefined> {
    const fields = await this.answer('look an account up', this.redis.hgetall(this.accountKey(key)));
    if (fields.nick === undefined || fields.passwordHash === undefined) return undefined;
    return { nick: fields.nick, passwordHash: fields.passwordHash, createdAt: Number(fields.createdAt) };
  }

  async createAccount(key: string, account: AccountRecord): Promise<boolean> {
    const created = this.redis.chatCreateAccount(this.accountKey(key), account.nick, account.passwordHash, account.createdAt);
    return (await this.answer('register an account', created)) === 1;
  }

  async changePassword(key: string, passwordHash: string): Promise<void> {
    await this.answer('change a password', this.redis.chatChangePassword(this.accountKey(key), this.tokenSetKey(key), passwordHash, this.tokenKey('')));
  }

  async addToken(key: string, tokenHash: string, expiresAt: number, now: number): Promise<void> {
    const added = this.redis.chatAddToken(this.tokenSetKey(key), this.tokenKey(tokenHash), key, tokenHash, expiresAt, now, this.tokenKey(''), GC_MARGIN_MS);
    await this.answer('store a resume token', added);
  }

  async tokenOwner(tokenHash: string, now: number): Promise<string | undefined> {
    const [key, expiresAt] = await this.answer('check a resume token', this.redis.hmget(this.tokenKey(tokenHash), 'key', 'expiresAt'));
    return key != null && Number(expiresAt) > now ? key : undefined;
  }

  /** Quits the client only when this store owns it (see {@link RedisAccountsOptions.ownsClient}). */
  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit();
  }

  private answer<T>(doing: string, reply: Promise<T>): Promise<T> {
    return answerFromRedis(this.location, doing, reply);
  }

  private accountKey(key: string): string {
    return `${this.prefix}account:${key}`;
  }
  private tokenSetKey(key: string): string {
    return `${this.prefix}tokens:${key}`;
  }
  private tokenKey(tokenHash: string): string {
    return `${this.prefix}token:${tokenHash}`;
  }
}

/**
 * Awaits a Redis reply for accounts work (this store's, or the login
 * throttle's); a failure is rethrown naming the Redis and what to check,
 * with ioredis's error as the cause.
 */
export async function answerFromRedis<T>(location: string, doing: string, reply: Promise<T>): Promise<T> {
  try {
    return await reply;
  } catch (error) {
    throw new RedisAccountsError(
      `Could not ${doing}: Redis at ${location} failed (${(error as Error).message}). Check that it is running and reachable; logins work again once it answers.`,
      { cause: error },
    );
  }
}

/** A Redis URL fit for logs: any password replaced by `***`. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL (a socket path, say): nothing in it is known to be a password, but say no more than needed.
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** The address a client connects to, as a URL, from its options (whose password is masked by the caller). */
function urlOf(redis: Redis): string {
  const { host, port, db, username, password, path, tls } = redis.options;
  if (path) return `unix://${path}${db ? `?db=${db}` : ''}`;
  const auth = username || password ? `${encodeURIComponent(username ?? '')}${password ? ':***' : ''}@` : '';
  return `${tls ? 'rediss' : 'redis'}://${auth}${host ?? '127.0.0.1'}:${port ?? 6379}/${db ?? 0}`;
}
