/**
 * @module scripts: the Lua scripts that make each cluster step atomic.
 *
 * Each runs inside Redis as one step no other client can interleave with:
 * that is what makes Redis the sequencer (one offset per event, the same
 * order for every subscriber) and the nick registry (one winner per nick).
 */

/**
 * Numbers one channel event, keeps it, updates the channel's members for a
 * join or leave, and publishes it, all at once: a constant handful of
 * commands per event, whatever the number of members or nodes.
 *
 * KEYS: offset, events, members, node's channels.
 * ARGV: head (frame JSON without its closing brace), kind, node, conn,
 * disconnected (1/0), channel, max events kept, topic.
 * Returns the offset.
 */
export const SEQUENCE = `
local offset = redis.call('INCR', KEYS[1])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local data = ARGV[1] .. ',"offset":' .. offset .. ',"time":' .. ms .. '}'
local meta = ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5]
if ARGV[2] ~= 'say' then
  local who = ARGV[3] .. '|' .. ARGV[4] .. '|' .. cjson.decode(ARGV[1] .. '}').user
  if ARGV[2] == 'join' then
    redis.call('ZADD', KEYS[3], offset, who)
    redis.call('SADD', KEYS[4], ARGV[6])
  else
    redis.call('ZREM', KEYS[3], who)
  end
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], offset .. '-1', 'm', meta, 't', ms, 'd', data)
redis.call('PUBLISH', ARGV[8], offset .. '\\n' .. ms .. '\\n' .. meta .. '\\n' .. data)
return offset
`;

/**
 * Claims a nick for a connection. A guest gets it only if nobody holds it;
 * an owner takes it from whoever does, and is told who that was.
 *
 * KEYS: nicks, users, this node's sessions.
 * ARGV: nick key, holder (`node|conn|nick`), owner (1/0), conn, key prefix.
 * Returns {'ok', ''}, {'took', previous holder} or {'taken', holder}.
 */
export const CLAIM = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and ARGV[3] ~= '1' then
  return {'taken', held}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if held then
  redis.call('ZREM', KEYS[2], held)
  local node, conn = string.match(held, '^([^|]*)|([^|]*)|')
  redis.call('HDEL', ARGV[5] .. 'sessions:' .. node, conn)
end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(now[1]) * 1000000 + tonumber(now[2]), ARGV[2])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
if held then return {'took', held} end
return {'ok', ''}
`;

/**
 * Frees a nick if this connection still holds it (an owner may have taken it
 * over meanwhile), and publishes the notice that goes with it, if any.
 *
 * KEYS: nicks, users, the holder's node's sessions.
 * ARGV: nick key, holder (`node|conn|nick`), conn, topic, notice ('' for none).
 */
export const RELEASE = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[3])
if ARGV[5] ~= '' then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return 1
`;
