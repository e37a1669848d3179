-- Adds ARGV[1] to the monthly usage counter KEYS[1] only if it exists: a missing counter is rebuilt
-- from DynamoDB's daily aggregates by its reader (MonthlyUsage), never started at a partial value.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return -1
