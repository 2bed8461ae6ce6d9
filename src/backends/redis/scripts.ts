import { createHash } from 'node:crypto';

/**
 * The Lua scripts (key layout: layout.ts). Each script touches the keys it declares, all in one slot on a cluster,
 * and runs atomically: that is what makes a shard's generation check and write one step on a standalone Redis.
 *
 * Numbers are formatted with %.0f before they are written or returned: generations start at the server's time in
 * µs (so a Redis that lost its data does not hand out generations that an old snapshot could match), which Lua's
 * default number formatting would round.
 */

/**
 * Makes sure the shard has a floor. The backend sets up every shard's floor before its first write (FLOOR); this is
 * for a Redis that lost its data meanwhile.
 */
const ENSURE_FLOOR = `
local function ensure_floor(clock_key, floor_key)
  local f = redis.call('GET', floor_key)
  if f then return tonumber(f) end
  local t = redis.call('TIME')
  local start = t[1] .. string.format('%06d', tonumber(t[2]))
  local clock = redis.call('GET', clock_key)
  if clock and tonumber(clock) > tonumber(start) then start = clock end
  redis.call('SET', clock_key, start)
  redis.call('SET', floor_key, start)
  return tonumber(start)
end
`;

/**
 * KEYS: clock, floor of one shard. ARGV: start (the server's time in µs, read once for every shard being set up, so
 * that they all start at the same base generation). → its floor (a string), created if missing.
 */
const FLOOR = `
local f = redis.call('GET', KEYS[2])
if f then return f end
local start = ARGV[1]
local clock = redis.call('GET', KEYS[1])
if clock and tonumber(clock) > tonumber(start) then start = clock end
redis.call('SET', KEYS[1], start)
redis.call('SET', KEYS[2], start)
return start
`;

/**
 * KEYS: clock, floor, the tags' generation keys (one shard), then the session index when ARGV[3] is '1'.
 * ARGV: channel, the tags as JSON (for subscribers), '1' or '0'. → the last generation handed out (a string).
 * Tag i of n gets last - n + i.
 */
const BUMP = `${ENSURE_FLOOR}
ensure_floor(KEYS[1], KEYS[2])
local indexed = ARGV[3] == '1'
local n = #KEYS - 2
if indexed then n = n - 1 end
local last = redis.call('INCRBY', KEYS[1], n)
for i = 1, n do
  redis.call('SET', KEYS[2 + i], string.format('%.0f', last - n + i))
  if indexed then redis.call('SADD', KEYS[#KEYS], KEYS[2 + i]) end
end
local text = string.format('%.0f', last)
redis.call('PUBLISH', ARGV[1], 'b' .. text .. ':' .. ARGV[2])
return text
`;

/**
 * The atomic store of a standalone Redis. KEYS: entry, then (floor, generation key) per tag, then the session index
 * when ARGV[3] is '1'. ARGV: pxat ('0' = none), blob, '1' or '0', then the recorded generation of each tag.
 * → 1 stored, 0 refused (a tag moved on, or its shard lost its floor: data loss).
 */
const SET = `
local n = #ARGV - 3
for i = 1, n do
  local f = redis.call('GET', KEYS[2 * i])
  if not f then return 0 end
  f = tonumber(f)
  local g = tonumber(redis.call('GET', KEYS[2 * i + 1]) or -1)
  if g < f then g = f end
  if g ~= tonumber(ARGV[3 + i]) then return 0 end
end
if ARGV[1] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
if ARGV[3] == '1' then redis.call('SADD', KEYS[#KEYS], KEYS[1]) end
return 1
`;

/** KEYS: entry. ARGV: channel, message for subscribers. */
const DELETE = `
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`;

/**
 * KEYS: clock, floor of one shard. ARGV: target (above every shard's clock, so that all shards share one base again).
 * Raises the floor above every generation the shard handed out.
 */
const CLEAR = `${ENSURE_FLOOR}
ensure_floor(KEYS[1], KEYS[2])
local c = tonumber(redis.call('GET', KEYS[1])) + 1
local target = tonumber(ARGV[1])
if target > c then c = target end
local text = string.format('%.0f', c)
redis.call('SET', KEYS[1], text)
redis.call('SET', KEYS[2], text)
return 1
`;

/**
 * KEYS: floor, then generation keys of that shard (a SCAN batch after clear()). Deletes the generations below the
 * floor (they read as the floor anyway); a tag bumped after the clear keeps its generation.
 */
const PURGE = `
local floor = tonumber(redis.call('GET', KEYS[1]) or -1)
local n = 0
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or -1) < floor then redis.call('DEL', KEYS[i]); n = n + 1 end
end
return n
`;

/**
 * KEYS: entry keys (a SCAN batch; one slot on a cluster). → per key two values: the entry's header (`A<n>:` and the
 * n bytes after it; false when the key is gone or is not an entry, see entry.ts) and the size of the value in bytes.
 * Values stay in Redis: only their size travels.
 */
const INSPECT = `
local out = {}
for i = 1, #KEYS do
  local header, size = false, 0
  local ok, head = pcall(redis.call, 'GETRANGE', KEYS[i], 0, 23)
  if ok and type(head) == 'string' and string.sub(head, 1, 1) == 'A' then
    local colon = string.find(head, ':', 1, true)
    local n = colon and tonumber(string.sub(head, 2, colon - 1))
    if n then
      local total = redis.call('STRLEN', KEYS[i])
      if colon + n <= total then
        header = redis.call('GETRANGE', KEYS[i], 0, colon + n - 1)
        size = total - colon - n
      end
    end
  end
  out[#out + 1] = header
  out[#out + 1] = size
end
return out
`;

export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export const scripts = {
  floor: script(FLOOR),
  bump: script(BUMP),
  set: script(SET),
  delete: script(DELETE),
  clear: script(CLEAR),
  purge: script(PURGE),
  inspect: script(INSPECT),
} as const;
