-- One round trip for a versioned cache read: the scope's current version and the entry cached under it.
-- KEYS[1] = the scope's version key; ARGV[1] = entry key prefix; ARGV[2] = entry key suffix.
local version = redis.call('GET', KEYS[1]) or '0'
local entry = redis.call('GET', ARGV[1] .. version .. ARGV[2])
return {version, entry or false}
