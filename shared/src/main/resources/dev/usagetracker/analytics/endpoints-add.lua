-- Adds committed hits to one client's day of endpoint rows, atomically.
-- KEYS[1] = the day's hash; ARGV[1] = cap on named rows; ARGV[2] = TTL seconds; then per row:
-- row, n, m, and m pairs of (suffix, count) for its status classes and latency bins.
-- Fields: rows (a template '/…' or 'METHOD /…'), '<row>\t<suffix>' counters of a named row,
-- '#other' (hits past the cap), '#total' (every hit), '#rows' (named rows).
local cap = tonumber(ARGV[1])
local named = tonumber(redis.call('HGET', KEYS[1], '#rows') or '-1')
if named < 0 then
  -- a hash written before '#rows' existed holds only rows, '#total' and '#other'
  named = redis.call('HLEN', KEYS[1])
  if redis.call('HEXISTS', KEYS[1], '#total') == 1 then named = named - 1 end
  if redis.call('HEXISTS', KEYS[1], '#other') == 1 then named = named - 1 end
end
local i = 3
while i <= #ARGV do
  local row = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local m = tonumber(ARGV[i + 2])
  local counted = redis.call('HEXISTS', KEYS[1], row) == 1
  if not counted and named < cap then
    counted = true
    named = named + 1
  end
  if counted then
    redis.call('HINCRBY', KEYS[1], row, n)
    for j = 0, m - 1 do
      redis.call('HINCRBY', KEYS[1], row .. '\t' .. ARGV[i + 3 + 2 * j], ARGV[i + 4 + 2 * j])
    end
  else
    redis.call('HINCRBY', KEYS[1], '#other', n)
  end
  redis.call('HINCRBY', KEYS[1], '#total', n)
  i = i + 3 + 2 * m
end
redis.call('HSET', KEYS[1], '#rows', named)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return named
