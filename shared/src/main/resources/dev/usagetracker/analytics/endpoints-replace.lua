-- Replaces one client's day of endpoint rows with a summary rebuilt from the raw hits, atomically.
-- KEYS[1] = the day's hash; ARGV[1] = TTL seconds; then field, value pairs (including '#total', '#other', '#rows' and row counters).
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
