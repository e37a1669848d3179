-- After a batch's transactions: KEYS[1] the month's counter, KEYS[2] its sync hash, KEYS[3] the month's
-- counter of hits whose status was not 5xx; ARGV[1] the hits the batch committed for that month (0 when
-- none), ARGV[2] the epoch begin-commit.lua returned, ARGV[3] how many of ARGV[1] were not 5xx. A counter
-- is only ever added to while it exists: a missing one is rebuilt from DynamoDB's daily aggregates by a
-- reader (rebuild-month.lua). If the hash expired meanwhile (a batch in flight for longer than its TTL)
-- a reader may already have summed this batch: it adds nothing and the next rebuild is exact.
if redis.call('HGET', KEYS[2], 'epoch') ~= ARGV[2] then return -2 end
redis.call('HINCRBY', KEYS[2], 'done', 1)
local result = -1
if KEYS[3] and tonumber(ARGV[3] or '0') > 0 and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('INCRBY', KEYS[3], ARGV[3])
end
if tonumber(ARGV[1]) > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  result = redis.call('INCRBY', KEYS[1], ARGV[1])
end
return result
