/**
 * @module redis-throttle: login lockouts in Redis, for cluster mode, so a
 * nick or an address locked on one node is locked on all of them: otherwise
 * an attacker who spreads guesses over N nodes gets N times the tries.
 *
 * One hash per key, `throttle:<scope>:<key>` under the cluster's prefix:
 * { failures (comma-separated times), lockouts, lockedUntil, touched }.
 *
 * Recording a failure reads and rewrites the entry, so it is one Lua script:
 * two nodes recording at once must both count. Decisions compare the stored
 * times with the `now` the caller passes, as the in-memory throttle does (and
 * as tests with fake clocks need), so both engines decide alike. Redis's
 * expiry only collects garbage: each failure sets the key to expire some
 * time after the throttle would forget it anyway, never before.
 */
import type { Redis } from 'ioredis';
import { forgetAfter, type LoginThrottle, type ThrottlePolicy, type ThrottleScope } from '../accounts/throttle.js';
import type { Keys } from './keys.js';
import { answerFromRedis, GC_MARGIN_MS } from './redis-accounts.js';

/**
 * KEYS[1] the entry. ARGV: now, after, window ms (0 for none), base ms, max ms,
 * forget ms (idle time after which the entry starts over), ttl ms.
 * The in-memory Throttle's `fail`, step for step. Returns lockedUntil (0 when not locked).
 */
const FAIL = `
local now, after, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local base, max, forget = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local entry = redis.call('HMGET', KEYS[1], 'failures', 'lockouts', 'touched', 'lockedUntil')
local failures, lockouts, lockedUntil = {}, 0, 0
if entry[3] and now - tonumber(entry[3]) <= forget then
  lockouts = tonumber(entry[2]) or 0
  lockedUntil = tonumber(entry[4]) or 0
  for time in string.gmatch(entry[1] or '', '[^,]+') do
    local at = tonumber(time)
    if window == 0 or now - at < window then failures[#failures + 1] = at end
  end
end
failures[#failures + 1] = now
if lockouts > 0 or #failures >= after then
  lockedUntil = now + math.min(max, base * 2 ^ lockouts)
  lockouts = lockouts + 1
  failures = {}
end
local times = {}
for i, at in ipairs(failures) do times[i] = string.format('%.0f', at) end
redis.call('HSET', KEYS[1], 'failures', table.concat(times, ','), 'lockouts', lockouts,
  'lockedUntil', string.format('%.0f', lockedUntil), 'touched', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return lockedUntil`;

type Scripted = Redis & { chatThrottleFail(key: string, ...args: number[]): Promise<number> };

export interface RedisThrottleOptions {
  keys: Keys;
  scope: ThrottleScope;
  /** The Redis, masked, for error messages. */
  location: string;
}

export class RedisThrottle implements LoginThrottle {
  private readonly redis: Scripted;
  private readonly keys: Keys;
  private readonly scope: ThrottleScope;
  private readonly location: string;

  constructor(
    redis: Redis,
    private readonly policy: ThrottlePolicy,
    options: RedisThrottleOptions,
  ) {
    ({ keys: this.keys, scope: this.scope, location: this.location } = options);
    // Defined once per client: the other scope's throttle on the same client reuses it.
    if (!('chatThrottleFail' in redis)) redis.defineCommand('chatThrottleFail', { numberOfKeys: 1, lua: FAIL });
    this.redis = redis as Scripted;
  }

  async retryAfter(key: string, now: number): Promise<number> {
    const lockedUntil = await answerFromRedis(this.location, 'check for a lockout', this.redis.hget(this.keys.throttle(this.scope, key), 'lockedUntil'));
    return Math.max(0, Number(lockedUntil ?? 0) - now);
  }

  async fail(key: string, now: number): Promise<void> {
    const { after, windowMs, baseMs, maxMs } = this.policy;
    const forget = forgetAfter(this.policy);
    const recorded = this.redis.chatThrottleFail(
      this.keys.throttle(this.scope, key),
      now,
      after,
      Number.isFinite(windowMs) ? windowMs : 0,
      baseMs,
      maxMs,
      forget,
      forget + GC_MARGIN_MS,
    );
    await answerFromRedis(this.location, 'record a wrong password', recorded);
  }

  async reset(key: string): Promise<void> {
    await answerFromRedis(this.location, 'clear a lockout', this.redis.del(this.keys.throttle(this.scope, key)));
  }
}
