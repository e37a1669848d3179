-- Adds committed hits to one client's day of endpoint templates, atomically.
-- KEYS[1] = the day's hash; ARGV[1] = cap on named templates; ARGV[2] = TTL seconds; then template, n pairs.
-- Fields: templates (they start with '/'), '#other' (hits past the cap), '#total' (every hit).
local cap = tonumber(ARGV[1])
local named = redis.call('HLEN', KEYS[1])
if redis.call('HEXISTS', KEYS[1], '#total') == 1 then named = named - 1 end
if redis.call('HEXISTS', KEYS[1], '#other') == 1 then named = named - 1 end
for i = 3, #ARGV, 2 do
  local field = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  if redis.call('HEXISTS', KEYS[1], field) == 1 then
    redis.call('HINCRBY', KEYS[1], field, n)
  elseif named < cap then
    redis.call('HINCRBY', KEYS[1], field, n)
    named = named + 1
  else
    redis.call('HINCRBY', KEYS[1], '#other', n)
  end
  redis.call('HINCRBY', KEYS[1], '#total', n)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return named
