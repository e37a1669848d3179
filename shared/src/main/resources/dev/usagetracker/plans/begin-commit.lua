-- Marks one consumer batch in flight for a (client, month) before its DynamoDB transactions:
-- KEYS[1] the month's sync hash; ARGV[1] a fresh epoch (kept only if the hash is new), ARGV[2] its TTL
-- in seconds. Returns the hash's epoch, which the batch's end-commit.lua must name. While begun > done,
-- no reader may rebuild the month's counter (rebuild-month.lua).
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'begun', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HGET', KEYS[1], 'epoch')
