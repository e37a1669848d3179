-- One round trip for a versioned cache read: the version entries of the scope are cached under (the cache's
-- global epoch and the scope's own counter) and the entry cached under it.
-- KEYS[1] = the scope's version key; KEYS[2] = the epoch key; ARGV[1] = entry key prefix; ARGV[2] = entry key suffix.
local version = (redis.call('GET', KEYS[2]) or '0') .. '.' .. (redis.call('GET', KEYS[1]) or '0')
local entry = redis.call('GET', ARGV[1] .. version .. ARGV[2])
return {version, entry or false}
