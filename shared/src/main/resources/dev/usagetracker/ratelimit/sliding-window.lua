-- Sliding-window quotas for one subject, checked and consumed in one atomic step (all windows or none).
--
-- Each window is a hash: field = slot number (time / slot width), value = units consumed in that slot.
-- The window's count is the sum of its last `slots` slots, so it slides one slot at a time (1 s for a
-- minute, 1 min for an hour) instead of resetting at fixed edges. Slots that left the window are deleted
-- when seen, and the key expires one window after its last write: memory is at most `slots` small
-- fields per window per subject.
--
-- Windows may count different units (dimensions): an ingest request costs 1 in its `ingest` windows and
-- n in its `ingest_hits` windows; each window carries its own cost, and all are still checked and
-- consumed together.
--
-- KEYS[i]                     the hash of window i (same hash tag for all, so this works on a cluster)
-- ARGV[1]                     now in ms, or -1 for the Redis server's clock (one clock for every container)
-- ARGV[4i-2], ARGV[4i-1], ARGV[4i], ARGV[4i+1]   quota, window in ms, slots, cost of window i
--
-- Returns {allowed, now, then per window: remaining, reset_ms, retry_ms}
--   remaining  units left after this request (before it, if refused)
--   reset_ms   until the oldest counted slot leaves the window (the next time units come back)
--   retry_ms   if this window refused the request: until enough units come back for it; else 0;
--              -1 if it can never pass (cost above the quota)
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local n = #KEYS
local allowed = 1
local windows = {}
for i = 1, n do
  local quota = tonumber(ARGV[4 * i - 2])
  local window = tonumber(ARGV[4 * i - 1])
  local slots = tonumber(ARGV[4 * i])
  local cost = tonumber(ARGV[4 * i + 1])
  local width = window / slots
  local current = math.floor(now / width)
  local oldest = current - slots + 1
  local raw = redis.call('HGETALL', KEYS[i])
  local used, live, stale = 0, {}, {}
  for j = 1, #raw, 2 do
    local slot = tonumber(raw[j])
    if slot < oldest then
      stale[#stale + 1] = raw[j]
    else
      local units = tonumber(raw[j + 1])
      used = used + units
      live[#live + 1] = {slot, units}
    end
  end
  if #stale > 0 then
    redis.call('HDEL', KEYS[i], unpack(stale))
  end
  table.sort(live, function(a, b) return a[1] < b[1] end)
  if used + cost > quota then
    allowed = 0
  end
  windows[i] = {quota = quota, window = window, slots = slots, width = width, current = current,
                used = used, live = live, cost = cost}
end

local out = {allowed, now}
for i = 1, n do
  local w = windows[i]
  local used = w.used
  local cost = w.cost
  local first = w.live[1] and w.live[1][1] or nil
  if allowed == 1 then
    redis.call('HINCRBY', KEYS[i], string.format('%d', w.current), cost)
    redis.call('PEXPIRE', KEYS[i], w.window)
    used = used + cost
    if first == nil then first = w.current end
  end
  local retry = 0
  if allowed == 0 and used + cost > w.quota then
    if cost > w.quota then
      retry = -1
    else
      local need, freed = used + cost - w.quota, 0
      for _, entry in ipairs(w.live) do
        freed = freed + entry[2]
        if freed >= need then
          retry = (entry[1] + w.slots) * w.width - now
          break
        end
      end
    end
  end
  local reset = 0
  if first ~= nil then
    reset = (first + w.slots) * w.width - now
  end
  local remaining = w.quota - used
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
end
return out
