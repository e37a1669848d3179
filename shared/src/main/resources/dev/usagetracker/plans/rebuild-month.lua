-- Sets a month's counter from a sum of DynamoDB's daily aggregates, only if no batch was in flight while
-- the sum was read: KEYS[1] the counter, KEYS[2] its sync hash; ARGV[1] the sum, ARGV[2] the counter's TTL
-- in seconds, ARGV[3] the sync state "epoch:begun:done" the reader saw before it read the aggregates
-- ("" when there was no hash). A batch that began since, or was still in flight, may be in the sum or
-- not, and would add itself to the counter after: the reader then answers with its sum and sets nothing.
local state = ''
if redis.call('EXISTS', KEYS[2]) == 1 then
  local s = redis.call('HMGET', KEYS[2], 'epoch', 'begun', 'done')
  state = (s[1] or '') .. ':' .. (s[2] or '0') .. ':' .. (s[3] or '0')
end
if state ~= ARGV[3] then return 0 end
if state ~= '' then
  local s = redis.call('HMGET', KEYS[2], 'begun', 'done')
  if tonumber(s[1] or '0') ~= tonumber(s[2] or '0') then return 0 end
end
-- KEYS[3]/ARGV[4]: the counter of the month's hits whose status was not 5xx, from the same read.
local set = 0
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then set = 1 end
if KEYS[3] and redis.call('SET', KEYS[3], ARGV[4], 'NX', 'EX', ARGV[2]) then set = 1 end
return set
